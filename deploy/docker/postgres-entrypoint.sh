#!/bin/sh
# compose.yaml's database: create the cluster on first start (POSTGRES_DB owned by postgres), then run it.
set -eu
bin=/usr/lib/postgresql/15/bin
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    "$bin/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256
    printf "host all all 0.0.0.0/0 %s\n" "${POSTGRES_HOST_AUTH:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
    "$bin/pg_ctl" -D "$PGDATA" -w -o "-c listen_addresses=''" start
    psql -v ON_ERROR_STOP=1 -U postgres -c "ALTER USER postgres PASSWORD '${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}'" \
         -c "CREATE DATABASE \"${POSTGRES_DB:-hanoi_agents}\""
    "$bin/pg_ctl" -D "$PGDATA" -w stop
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*'
