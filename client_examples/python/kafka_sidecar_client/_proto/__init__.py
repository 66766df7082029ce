"""Stubs generated from proto/kafka_sidecar/v1/sidecar.proto by
tools/generate_stubs.py; committed, do not edit."""
