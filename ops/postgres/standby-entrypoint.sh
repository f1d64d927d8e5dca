#!/bin/bash
# The hot standby: on first start, a base backup of the primary (pg_basebackup, streaming the
# WAL it needs), set up to follow it (-R writes primary_conninfo and standby.signal); then
# PostgreSQL in recovery, streaming from the primary as `standby1`.
set -euo pipefail
export PGDATA=${PGDATA:-/var/lib/postgresql/18/docker}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
  until gosu postgres pg_isready -h "$PRIMARY_HOST" -U replicator; do sleep 1; done
  PGPASSWORD="$REPLICATION_PASSWORD" gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U replicator \
    -D "$PGDATA" -X stream -S standby1 -R -c fast \
    -d "application_name=standby1"
fi
exec gosu postgres postgres -D "$PGDATA" -c hot_standby=on
