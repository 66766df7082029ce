#!/usr/bin/env bash
# The manifest check passes on deploy/kubernetes and fails on copies broken in
# the ways that matter: a probe on the wrong port, the handler dialling
# another socket, a grace period shorter than the drain, an invalid config.
set -euo pipefail
BINARY="$1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHECK=(/usr/bin/python3 "$HERE/check_manifests.py" "$BINARY")
"${CHECK[@]}" "$HERE/kubernetes"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
broken() {  # name, sed expression on FILE
  rm -rf "$work/m" && cp -r "$HERE/kubernetes" "$work/m"
  sed -i "$3" "$work/m/$2"
  if "${CHECK[@]}" "$work/m" 2>"$work/err"; then
    echo "FAIL: the check accepted manifests with $1" >&2
    exit 1
  fi
  echo "ok: rejected $1: $(cat "$work/err")"
}
broken "a probe on the wrong port" deployment.yaml 's/containerPort: 8080/containerPort: 9090/'
broken "the handler dialling another socket" deployment.yaml 's|value: unix:/var/run/kafka-sidecar/grpc/sidecar.sock|value: unix:/tmp/other.sock|'
broken "a grace period shorter than the drain" deployment.yaml 's/terminationGracePeriodSeconds: 45/terminationGracePeriodSeconds: 20/'
broken "an invalid sidecar config" configmap.yaml 's/batch_size: 100/batch_size: 0/'
broken "a liveness probe on a path that does not exist" deployment.yaml '/livenessProbe:/{n;s|/healthz|/health|}'
