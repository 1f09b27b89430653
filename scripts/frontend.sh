#!/usr/bin/env bash
# Build the designer's front end (bpmn-js from npm, bundled by esbuild) into
# webapp/static/build/. Nothing is committed as a copy: package-lock.json pins it all.
# Skips in a moment when the build is newer than the lock file and the sources.
set -euo pipefail
cd "$(dirname "$0")/../webapp/frontend"
stamp=../static/build/designer.js
if [ -f "$stamp" ] && [ -z "$(find package-lock.json build.mjs src -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm not found; install Node.js 20+ with npm (e.g. apt-get install nodejs npm)" >&2
  echo "       to build the designer's front end (webapp/frontend)" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
