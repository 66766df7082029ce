# Sourced, not run: pinned Python packages in the repository's git-ignored
# .venv (KAFKA_SIDECAR_VENV overrides it), installed only when a pin is
# missing or differs, so a second run is quick.
#
#   source "$REPO_ROOT/scripts/lib/venv_pins.sh"
#   venv_pins LABEL PACKAGE==VERSION...      sets VENV_PYTHON

venv_pins() {
  local label="$1"
  shift
  local venv="${KAFKA_SIDECAR_VENV:-$REPO_ROOT/.venv}"
  VENV_PYTHON="$venv/bin/python3"
  [ -x "$VENV_PYTHON" ] || /usr/bin/python3 -m venv "$venv"
  if "$VENV_PYTHON" - "$@" <<'PYEOF' 2>/dev/null
import sys, importlib.metadata as m
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    if m.version(name) != version:
        sys.exit(1)
PYEOF
  then
    echo "$label: $* present in .venv"
  else
    "$VENV_PYTHON" -m pip install --quiet --disable-pip-version-check "$@"
    echo "$label: installed $* into .venv"
  fi
}
