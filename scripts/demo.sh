#!/usr/bin/env bash
# README command 1: install, create the SQLite demo database, run web app + timer worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# No mail server or SMS gateway in a demo: their messages are written here as files
# (e-mails as .eml); a configured CASECLOCK_SMTP_HOST or gateway is used instead.
export CASECLOCK_DROP_DIR="${CASECLOCK_DROP_DIR:-instance/outbox}"
.venv/bin/caseclock demo
exec .venv/bin/caseclock serve --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
