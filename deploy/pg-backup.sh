#!/bin/sh
# Back up the platform's PostgreSQL database: one compressed custom-format dump (pg_dump -Fc).
#   deploy/pg-backup.sh DATABASE_URL [DIRECTORY]     → DIRECTORY/hanoi-agents-YYYYmmddTHHMMSSZ.dump
# Consistent while the app runs (one snapshot); see deploy/BACKUP.md for schedule, retention and restore.
set -eu
url="${1:?usage: pg-backup.sh DATABASE_URL [DIRECTORY]}"
dir="${2:-.}"
url="$(printf '%s' "$url" | sed -e 's#^postgresql+psycopg://#postgresql://#' -e 's#^postgres://#postgresql://#')"
mkdir -p "$dir"
file="$dir/hanoi-agents-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$file.partial" "$url"
pg_restore --list "$file.partial" > /dev/null   # a dump that cannot be read is no backup
mv "$file.partial" "$file"
echo "$file"
