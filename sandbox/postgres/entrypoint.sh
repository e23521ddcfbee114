#!/bin/sh
# PostgreSQL from the host's Debian packages, inside the sandbox's empty-base container.
# First start: initdb, then the seed (schema, data, roles) with passwords from secret files.
set -eu
PGDATA=/var/lib/postgresql/data/pgdata
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

chown postgres:postgres /var/lib/postgresql/data /run/postgresql
chmod 0775 /run/postgresql

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp) && cp "$POSTGRES_PASSWORD_FILE" "$pwfile" && chown postgres "$pwfile"
  as_postgres "$BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  as_postgres "$BIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -c shared_preload_libraries=pg_stat_statements" -w start >/dev/null
  as_postgres "$BIN/psql" -q -U postgres -c "CREATE DATABASE netzwaechter"
  as_postgres "$BIN/psql" -q -U postgres -d netzwaechter -v ON_ERROR_STOP=1 \
    -v app_password="$(cat "$APP_DB_PASSWORD_FILE")" \
    -v monitor_password="$(cat "$MONITOR_PASSWORD_FILE")" \
    -f /sandbox/postgres/seed.sql
  as_postgres "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  echo "netzwaechter-postgres: database initialised and seeded"
fi

# max_prepared_transactions > 0 lets the checks' tests leave a prepared transaction behind;
# archive_mode=on with an archive command that discards WAL (production archives it) and fails
# while /tmp/archive-fails exists in the container: the archiver check's test creates it.
exec setpriv --reuid=postgres --regid=postgres --init-groups "$BIN/postgres" -D "$PGDATA" \
  -c listen_addresses='*' \
  -c shared_preload_libraries=pg_stat_statements \
  -c pg_stat_statements.track=all \
  -c track_io_timing=on \
  -c log_min_duration_statement="${SLOW_STATEMENT_MS:-200}" \
  -c log_line_prefix='%m [%p] %q%u@%d ' \
  -c max_connections=100 \
  -c max_prepared_transactions=10 \
  -c archive_mode=on \
  -c "archive_command=test ! -e /tmp/archive-fails"
