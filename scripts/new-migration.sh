#!/usr/bin/env bash
# Write a migration for a model change: compares the models with a scratch SQLite
# database at the newest revision and writes engine/store/migrations/versions/<rev>.py.
# Review it (Alembic's autogenerate misses renames), then commit it with the model change.
set -euo pipefail
cd "$(dirname "$0")/.."
message=${1:?usage: scripts/new-migration.sh "what changed"}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
.venv/bin/python - "$scratch/schema.db" "$message" <<'PY'
import sys

from alembic import command

from engine.store.schema import alembic_config

url = f"sqlite:///{sys.argv[1]}"
config = alembic_config(url=url)
command.upgrade(config, "head")
command.revision(config, message=sys.argv[2], autogenerate=True)
PY
.venv/bin/ruff check --fix -q engine/store/migrations/versions || true
.venv/bin/ruff format -q engine/store/migrations/versions
