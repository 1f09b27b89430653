#!/usr/bin/env bash
# README command 1: install, create the SQLite demo database, run web app + timer worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/caseclock demo
exec .venv/bin/caseclock serve --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
