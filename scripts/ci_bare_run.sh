#!/usr/bin/env bash
# `make run` on a machine with no PostgreSQL and no Redis reachable: DATABASE_URL and REDIS_URL
# point at ports where nothing listens. Passes when the embedded servers came up, migrations
# ran and the platform answers /readyz, the customer app, /api/docs/, /admin/login/ and the
# development mailbox.
set -euo pipefail
port=${BARE_PORT:-8765}
log=$(mktemp)
DATABASE_URL=postgres://postgres@127.0.0.1:5439/finstack REDIS_URL=redis://127.0.0.1:6390/0 \
  PORT=$port setsid make run >"$log" 2>&1 &
pid=$!
cleanup() { kill -TERM -- -"$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT

fail() { echo "bare run: $1"; echo "--- make run output ---"; cat "$log"; exit 1; }
ready=""
for _ in $(seq 1 180); do
  if body=$(curl -fsS "http://127.0.0.1:$port/readyz" 2>/dev/null); then ready=$body; break; fi
  kill -0 "$pid" 2>/dev/null || fail "make run exited early"
  sleep 1
done
[ -n "$ready" ] || fail "/readyz never answered 200"
echo "bare run: /readyz -> $ready"
grep -q "starting embedded PostgreSQL" "$log" || fail "embedded PostgreSQL was not started"
grep -q "starting embedded Valkey" "$log" || fail "embedded Redis was not started"
grep -q "Applying core.0001_initial" "$log" || fail "migrations were not applied"
for path in /app/ /api/docs/ /api/schema/ /admin/login/ /dev/mail/; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
  [ "$code" = 200 ] || fail "$path answered $code"
  echo "bare run: $path -> $code"
done
grep -q "celery@.* ready" "$log" || sleep 5
grep -q "celery@.* ready" "$log" || fail "the Celery worker did not start"
echo "bare run: worker ready; OK"
