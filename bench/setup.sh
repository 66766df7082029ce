#!/usr/bin/env bash
# The benchmark's Python packages (charts) into the repository's .venv,
# pinned. Idempotent: nothing is installed when the pins are present.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PINS=(matplotlib==3.9.2 numpy==2.1.3 contourpy==1.3.3 cycler==0.12.1 fonttools==4.68.0
      kiwisolver==1.5.1 packaging==26.4 pillow==13.0.0 pyparsing==3.3.3 python-dateutil==4.0.0)

source "$REPO_ROOT/scripts/lib/venv_pins.sh"
venv_pins bench "${PINS[@]}"
