#!/usr/bin/env bash
# Create .venv (if missing) and install CaseClock into it with the given extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".${1:-}"
# The designer's bpmn-js bundle (npm + esbuild); a no-op when already up to date.
bash scripts/frontend.sh
