#!/bin/sh
# Builds the customer web app (web/) into web/dist, which Django serves at /app/.
# `sh scripts/web.sh check` also runs the unit tests. The schema types are generated from
# docs/openapi.yaml first, so an API change that breaks the app fails the type check.
set -eu
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null; then
  echo "The web app needs Node.js 20.19+ with npm (docs/webapp.md)." >&2
  exit 1
fi
# npm ci only when node_modules is missing or was installed from another lock file.
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
npm run --silent gen >/dev/null
npx tsc --noEmit
if [ "${1:-}" = "check" ]; then
  npx vitest run
fi
npx vite build --logLevel warn
