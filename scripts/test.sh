#!/usr/bin/env bash
# README command 2: install with test extras, lint, run the whole suite.
# Set CASECLOCK_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/caseclock_test
# to run it on PostgreSQL instead of SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "[test]"
bash scripts/browser.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
