#!/usr/bin/env bash
# Builds the kafka-sidecar-client wheel and a fresh project in OUT_DIR (an
# empty directory outside this repository, or one this script made before)
# that installs it, as a user would, into its own venv; grpcio and protobuf
# come from the package index. Its handler is packaging/minimal/handler.py
# (the README's first code block); OUT_DIR/run-handler execs it, so a signal
# sent to the script's pid reaches the handler. SIDECAR_ADDRESS and
# HANDLER_NAME are read from the environment by the helper.
#
#   client_examples/python/packaging/make_outside_project.sh OUT_DIR
#
# Needs python3 with venv and pip (setup.sh checks for them). Idempotent.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUT_DIR   (an empty directory outside the repository)" >&2
  exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG="$(cd "$HERE/.." && pwd)"
REPO_ROOT="$(cd "$PKG/../.." && pwd)"
PYTHON="${PYTHON:-python3}"

OUT="$(realpath -m "$1")"
case "$OUT/" in
  "$REPO_ROOT"/*) echo "error: OUT_DIR $OUT is inside the repository $REPO_ROOT" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
if [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/requirements.txt" ]; then
  echo "error: OUT_DIR $OUT is neither empty nor made by this script" >&2
  exit 2
fi
command -v "$PYTHON" >/dev/null || { echo "error: $PYTHON not found (run client_examples/python/setup.sh)" >&2; exit 1; }
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null \
  || { echo "error: $PYTHON lacks venv/ensurepip (Debian: apt-get install python3-venv)" >&2; exit 1; }

# The project's own venv, the one that also builds the wheel: nothing from
# the repository's .venv is used.
VENV="$OUT/venv"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --quiet)

# Build from a copy: an in-tree build would leave build/ and *.egg-info in
# the checkout.
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -R "$PKG/pyproject.toml" "$PKG/README.md" "$PKG/kafka_sidecar_client" "$STAGE/"
rm -rf "$OUT/dist"
"${PIP[@]}" wheel --no-deps -w "$OUT/dist" "$STAGE"
WHEELS=("$OUT"/dist/kafka_sidecar_client-*.whl)
[ ${#WHEELS[@]} -eq 1 ] && [ -f "${WHEELS[0]}" ] \
  || { echo "error: expected one kafka_sidecar_client wheel in $OUT/dist" >&2; exit 1; }

# The project: its dependency by name, its handler, its start script.
echo "kafka-sidecar-client @ file://${WHEELS[0]}" > "$OUT/requirements.txt"
cp "$HERE/minimal/handler.py" "$OUT/handler.py"
# Same version number, new build: replace what an earlier run installed.
"${PIP[@]}" uninstall -y kafka-sidecar-client >/dev/null 2>&1 || true
"${PIP[@]}" install -r "$OUT/requirements.txt"
"$VENV/bin/python" -c 'import kafka_sidecar_client' \
  || { echo "error: kafka_sidecar_client does not import in $VENV" >&2; exit 1; }

cat > "$OUT/run-handler" <<RUN
#!/bin/sh
# -u: unbuffered, so the handler's log reaches a pipe line by line.
exec "$VENV/bin/python" -u "$OUT/handler.py" "\$@"
RUN
chmod +x "$OUT/run-handler"
echo "python: $OUT/run-handler runs $OUT/handler.py with kafka-sidecar-client from ${WHEELS[0]##*/}"
