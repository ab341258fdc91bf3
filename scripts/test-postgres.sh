#!/usr/bin/env bash
# Makes sure the PostgreSQL server the integration tests use is up (test/support/postgres.ts).
# With TEST_DATABASE_ADMIN_URL set, that server is used as is. Otherwise a local server is
# started (installed first on Debian as root) with a `relyloop_test` role that may create databases.
set -euo pipefail

default_url="postgresql://relyloop_test:relyloop_test@127.0.0.1:5432/postgres"
url="${TEST_DATABASE_ADMIN_URL:-$default_url}"

reachable() { node -e '
  const pg = require("pg"); const c = new pg.Client({ connectionString: process.argv[1], connectionTimeoutMillis: 2000 });
  c.connect().then(() => c.end()).then(() => process.exit(0), () => process.exit(1));' "$url" 2>/dev/null; }

if reachable; then exit 0; fi
if [ -n "${TEST_DATABASE_ADMIN_URL:-}" ]; then
  echo "TEST_DATABASE_ADMIN_URL is set but that server does not answer" >&2; exit 1
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  cat >&2 <<MSG
The tests need a PostgreSQL server. Either start one with a role that can create databases:
  CREATE ROLE relyloop_test LOGIN CREATEDB PASSWORD 'relyloop_test';   (on 127.0.0.1:5432)
or point TEST_DATABASE_ADMIN_URL at a server and role of your own.
MSG
  exit 1
fi

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "[test] installing PostgreSQL"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  pg_createcluster "$version" main >/dev/null
fi
pg_ctlcluster "$version" main start 2>/dev/null || true
for _ in $(seq 1 30); do
  su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
su postgres -c "psql -qv ON_ERROR_STOP=1" >/dev/null <<'SQL'
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relyloop_test') THEN
    CREATE ROLE relyloop_test LOGIN CREATEDB PASSWORD 'relyloop_test';
  END IF;
END$$;
SQL
reachable || { echo "PostgreSQL started but $url does not answer" >&2; exit 1; }
echo "[test] PostgreSQL $version ready"
