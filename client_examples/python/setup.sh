#!/usr/bin/env bash
# Installs the Python example's dependencies into the repository's .venv and
# generates the gRPC stubs from proto/ into generated/ (git-ignored).
# Idempotent and quick when nothing changed: packages are reinstalled only
# when a pinned version differs, stubs regenerated only when the proto is
# newer than them.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
# grpcio-tools bundles its own protoc and pins the protobuf runtime range;
# protobuf is pinned too so the generated code and runtime always match.
PINS=(grpcio==1.85.1 grpcio-tools==1.85.1 protobuf==7.36.2 pytest==8.3.5)

source "$REPO_ROOT/scripts/lib/venv_pins.sh"
venv_pins client_examples/python "${PINS[@]}"
PY="$VENV_PYTHON"

PROTO_ROOT="$REPO_ROOT/proto"
PROTO="$PROTO_ROOT/kafka_sidecar/v1/sidecar.proto"
OUT="$HERE/generated"
STUB="$OUT/kafka_sidecar/v1/sidecar_pb2_grpc.py"
if [ -f "$STUB" ] && [ "$STUB" -nt "$PROTO" ]; then
  echo "client_examples/python: stubs up to date"
else
  mkdir -p "$OUT"
  "$PY" -m grpc_tools.protoc -I "$PROTO_ROOT" \
    --python_out="$OUT" --grpc_python_out="$OUT" "$PROTO"
  echo "client_examples/python: generated stubs into client_examples/python/generated"
fi
