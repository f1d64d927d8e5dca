#!/usr/bin/env bash
# PostgreSQL failover for ops/docker-compose.prod.yml (docs/operations.md, "PostgreSQL primary
# lost"): fence the old primary, promote the hot standby, point pg-router at it, wait until every
# market-api and ingest is ready again. Run it from the repository root on the compose host:
#
#   ops/postgres/failover.sh                        # the failover
#   ops/postgres/failover.sh --router-config FILE   # only re-point an haproxy.cfg (for tests)
#
# COMPOSE overrides the compose command (default: docker compose -f ops/docker-compose.prod.yml),
# ROUTER_CONFIG the HAProxy file pg-router mounts (default: ops/haproxy/haproxy.cfg).
# It never fails back: rebuild the old primary as a standby of the new one afterwards.
set -euo pipefail

# Moves `disabled` from the pg-standby server line to the pg-primary one. The file is rewritten
# in place (same inode): the container's single-file bind mount must see the change.
routes_to_primary() {
  if ! grep -Eq '^[[:space:]]*server pg-standby .*[[:space:]]disabled[[:space:]]*$' "$1"; then
    echo "failover: $1 does not route to pg-primary now (pg-standby is not disabled)" >&2
    return 1
  fi
}
switch_router() {
  local cfg=$1 next
  routes_to_primary "$cfg"
  next=$(sed -E \
    -e '/^[[:space:]]*server pg-primary /{/[[:space:]]disabled[[:space:]]*$/!s/[[:space:]]*$/ disabled/}' \
    -e '/^[[:space:]]*server pg-standby /s/[[:space:]]+disabled[[:space:]]*$//' "$cfg")
  printf '%s\n' "$next" >"$cfg"
}

if [ "${1:-}" = --router-config ]; then
  switch_router "$2"
  exit 0
fi

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
read -r -a COMPOSE <<<"${COMPOSE:-docker compose -f ops/docker-compose.prod.yml}"
psql_standby() { "${COMPOSE[@]}" exec -T pg-standby psql -U suanli -d suanli -v ON_ERROR_STOP=1 "$@"; }
step() { echo "[failover $(date -u +%H:%M:%S)] $*"; }

# Already failed over (the router points at pg-standby): do nothing.
routes_to_primary "${ROUTER_CONFIG:-ops/haproxy/haproxy.cfg}"

step "1/4 fence the old primary: stop pg-primary (it must never run as a primary again)"
"${COMPOSE[@]}" stop pg-primary

step "2/4 promote pg-standby"
psql_standby -c 'SELECT pg_promote(true, 60)'
for _ in $(seq 1 60); do
  [ "$(psql_standby -Atc 'SELECT pg_is_in_recovery()')" = f ] && break
  sleep 1
done
[ "$(psql_standby -Atc 'SELECT pg_is_in_recovery()')" = f ] || {
  echo "failover: pg-standby is still in recovery after 60 s" >&2
  exit 1
}
step "    pg-standby is the primary now"

step "3/4 point pg-router at pg-standby and reload it (cuts the connections it carried)"
switch_router "${ROUTER_CONFIG:-ops/haproxy/haproxy.cfg}"
"${COMPOSE[@]}" kill -s HUP pg-router

step "4/4 wait until every service is ready (they reconnect by themselves)"
ready() {
  local service=$1 port=$2
  "${COMPOSE[@]}" exec -T "$service" node -e \
    "fetch('http://127.0.0.1:$port/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
}
for pair in market-api-1:3100 market-api-2:3100 ingest-1:3101 ingest-2:3101; do
  service=${pair%%:*}
  port=${pair##*:}
  for i in $(seq 1 60); do
    if ready "$service" "$port"; then
      step "    $service ready"
      break
    fi
    [ "$i" = 60 ] && {
      echo "failover: $service not ready after 120 s; read its logs" >&2
      exit 1
    }
    sleep 2
  done
done
step "done. Next: GET /v1/admin/ledger/trial-balance must say balanced: true; then rebuild a"
step "standby from the new primary (docs/operations.md) and set synchronous_standby_names again."
