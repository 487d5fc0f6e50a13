#!/bin/sh
# Started by `make test` with DATABASE_URL/REDIS_URL pointing at live servers.
set -eu
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff format --check"; ruff format --check .
echo "== ruff check"; ruff check .
echo "== import-linter"; lint-imports
echo "== pytest"; exec pytest "$@"
