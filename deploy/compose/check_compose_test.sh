#!/usr/bin/env bash
# The compose check passes on the repository's docker-compose.yml and fails
# on copies broken in the ways that matter: the handler dialling another
# port, a health check on the wrong port, the config mounted elsewhere, a
# missing dead-letter topic, an invalid sidecar config.
set -euo pipefail
BINARY="$1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CHECK=(/usr/bin/python3 "$HERE/check_compose.py" "$BINARY")
"${CHECK[@]}" "$ROOT"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
FILES=(docker-compose.yml Dockerfile deploy/compose/sidecar.yaml client_examples/python/Dockerfile)
broken() {  # what, file, sed expression on it
  rm -rf "$work/r"
  for f in "${FILES[@]}"; do mkdir -p "$work/r/$(dirname "$f")" && cp "$ROOT/$f" "$work/r/$f"; done
  sed -i "$3" "$work/r/$2"
  if cmp -s "$ROOT/$2" "$work/r/$2"; then
    echo "FAIL: the edit for '$1' changed nothing" >&2
    exit 1
  fi
  if "${CHECK[@]}" "$work/r" >/dev/null 2>"$work/err"; then
    echo "FAIL: the check accepted a deployment with $1" >&2
    exit 1
  fi
  echo "ok: rejected $1: $(head -1 "$work/err")"
}
broken "the handler dialling another port" docker-compose.yml 's/SIDECAR_ADDRESS: sidecar:50051/SIDECAR_ADDRESS: sidecar:50052/'
broken "a health check on the wrong port" Dockerfile 's|127.0.0.1:8080/healthz|127.0.0.1:9090/healthz|'
broken "the config mounted elsewhere" docker-compose.yml 's|:/etc/kafka-sidecar/sidecar.yaml:ro|:/etc/sidecar.yaml:ro|'
broken "no dead-letter topic created" docker-compose.yml 's/--topic orders.dlt/--topic orders.dead/'
broken "a listener other containers cannot reach" deploy/compose/sidecar.yaml 's/grpc_listen: 0.0.0.0:50051/grpc_listen: 127.0.0.1:50051/'
broken "an invalid sidecar config" deploy/compose/sidecar.yaml 's/max_retries: 3/max_retries: -1/'
broken "a compose file docker-compose cannot parse" docker-compose.yml 's/^services:/servicez:/'
echo "compose checks passed"
