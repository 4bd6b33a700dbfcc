#!/usr/bin/env bash
# Start the machine's PostgreSQL on 127.0.0.1 (installing it from Debian's packages if needed) and
# create a throwaway role and database for the journal tests.  Prints the URL to use.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^${version} *main" || pg_createcluster "$version" main >&2
pg_ctlcluster "$version" main start >&2 2>&1 || pg_ctlcluster "$version" main status >&2
su postgres -c "psql -q -v ON_ERROR_STOP=1" >&2 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'autotrader') THEN
    CREATE ROLE autotrader LOGIN PASSWORD 'autotrader-ci';
  END IF;
END $$;
SQL
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'autotrader_test'\"" | grep -q 1; then
    su postgres -c "createdb -O autotrader autotrader_test" >&2
fi
echo "postgresql://autotrader:autotrader-ci@127.0.0.1:5432/autotrader_test"
