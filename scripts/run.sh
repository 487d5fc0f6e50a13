#!/bin/sh
# Started by `make run` with DATABASE_URL/REDIS_URL pointing at live servers.
set -eu
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-finstack.settings.dev}"
export PATH="$PWD/.venv/bin:$PATH"
mkdir -p .data
echo "Building the customer app (web/) ..."; sh scripts/web.sh
python manage.py migrate --no-input
python manage.py seed_demo
cat <<TXT

  Finstack is starting on http://127.0.0.1:${PORT}
    Customer app:          http://127.0.0.1:${PORT}/app/
    API docs (Swagger UI): http://127.0.0.1:${PORT}/api/docs/
    OpenAPI schema:        http://127.0.0.1:${PORT}/api/schema/
    Admin:                 http://127.0.0.1:${PORT}/admin/
    Readiness:             http://127.0.0.1:${PORT}/readyz
    Mailbox (development): http://127.0.0.1:${PORT}/dev/mail/ (sign-up codes)
  Demo logins are listed above (seed_demo). Ctrl-C stops web, worker and beat.

TXT
exec honcho start -f Procfile
