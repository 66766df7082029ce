#!/usr/bin/env bash
# Installs the Python helper's development dependencies into the
# repository's .venv: the pinned runtime (grpcio, protobuf), grpcio-tools for
# tools/generate_stubs.py (the stubs themselves are committed in
# kafka_sidecar_client/_proto) and pytest. Idempotent and quick when nothing
# changed: packages are reinstalled only when a pinned version differs.
# packaging/make_outside_project.sh needs only python3 with venv and pip,
# which scripts/install-deps.sh installs (python3-venv) and this checks.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
# grpcio-tools bundles its own protoc and pins the protobuf runtime range;
# protobuf is pinned too so the generated code and runtime always match.
# Changing grpcio-tools changes the stubs: regenerate them and raise the
# lower bounds in pyproject.toml to match.
PINS=(grpcio==1.85.1 grpcio-tools==1.85.1 protobuf==7.36.2 pytest==8.3.5)

/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || {
  echo "client_examples/python: python3 lacks venv/ensurepip: apt-get install python3-venv" >&2
  exit 1
}
source "$REPO_ROOT/scripts/lib/venv_pins.sh"
venv_pins client_examples/python "${PINS[@]}"
