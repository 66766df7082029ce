#!/usr/bin/env bash
# The benchmark's Python packages (charts) into the repository's .venv,
# pinned. Idempotent: nothing is installed when the pins are present.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KAFKA_SIDECAR_VENV:-$REPO_ROOT/.venv}"
PY="$VENV/bin/python3"
PINS=(matplotlib==3.9.2 numpy==2.1.3 contourpy==1.3.3 cycler==0.12.1 fonttools==4.68.0
      kiwisolver==1.5.1 packaging==26.4 pillow==13.0.0 pyparsing==3.3.3 python-dateutil==4.0.0)

[ -x "$PY" ] || /usr/bin/python3 -m venv "$VENV"
if "$PY" - "${PINS[@]}" <<'PYEOF' 2>/dev/null
import sys, importlib.metadata as m
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    if m.version(name) != version:
        sys.exit(1)
PYEOF
then
  echo "bench: ${PINS[*]} present in .venv"
else
  "$PY" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
  echo "bench: installed the benchmark's packages into .venv"
fi
