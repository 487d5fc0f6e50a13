#!/bin/sh
# Started by `make test` with DATABASE_URL/REDIS_URL pointing at live servers.
set -eu
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff format --check"; ruff format --check .
echo "== ruff check"; ruff check .
echo "== import-linter"; lint-imports
echo "== mypy"; mypy
echo "== bandit (medium and above)"; bandit -q -r apps finstack -x '*/tests/*,*/migrations/*' -ll
echo "== semgrep (project rules in .semgrep/)"
SEMGREP_ENABLE_VERSION_CHECK=0 .venv-semgrep/bin/semgrep --config .semgrep/ --error \
  --metrics=off --disable-version-check --quiet apps finstack bench scripts
echo "== migrations match the models"
DJANGO_SETTINGS_MODULE=finstack.settings.test python manage.py makemigrations --check --dry-run
echo "== web app: types from the schema, Vitest, build (scripts/web.sh)"; sh scripts/web.sh check
echo "== pytest"; exec pytest "$@"
