#!/usr/bin/env bash
# The README's test command: set up as needed, check, build, then run the whole
# suite on the embedded defaults and again on server PostgreSQL and Redis when
# they answer on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/setup.sh --for-tests

echo "==> lint and type check"
npm run --silent lint
npm run --silent check

echo "==> build"
npm run --silent build >/dev/null

echo "==> tests on the embedded defaults (PGlite, in-process socket.io adapter)"
env -u DATABASE_URL -u REDIS_URL npx vitest run

pg_url="${TEST_DATABASE_URL:-postgresql://root@127.0.0.1:5432/postgres}"
redis_url="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
if node -e "const c=new (require('pg').Client)({connectionString:process.argv[1]});c.connect().then(()=>c.end()).catch(()=>process.exit(1))" "$pg_url" 2>/dev/null; then
	echo "==> integration tests on server PostgreSQL and Redis"
	DATABASE_URL="$pg_url" REDIS_URL="$redis_url" npx vitest run tests/integration
else
	echo "==> PostgreSQL at $pg_url is not answering: server-database pass not run" >&2
	[[ "${CI:-}" == "true" ]] && exit 1
fi
