#!/bin/sh
# Restore a dump made by deploy/pg-backup.sh into an EMPTY database (create it first: createdb, or
# CREATE DATABASE), then check it. Stop the web, relay and workers before restoring over production.
#   deploy/pg-restore.sh DUMP_FILE DATABASE_URL
set -eu
file="${1:?usage: pg-restore.sh DUMP_FILE DATABASE_URL}"
url="${2:?usage: pg-restore.sh DUMP_FILE DATABASE_URL}"
url="$(printf '%s' "$url" | sed -e 's#^postgresql+psycopg://#postgresql://#' -e 's#^postgres://#postgresql://#')"
pg_restore --exit-on-error --single-transaction --no-owner --no-privileges --dbname="$url" "$file"
psql --no-psqlrc --quiet --tuples-only --command "SELECT 'restored at migration ' || version_num FROM alembic_version" "$url"
