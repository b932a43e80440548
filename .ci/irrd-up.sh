#!/usr/bin/env bash
# Starts a real IRRd 4.5.4 (PyPI) for the IRR integration tests, loaded with
# crates/irr/tests/testdb.rpsl, plus Debian's bgpq4 as the oracle.
# Prints `export PM_TEST_IRRD=127.0.0.1:<port>` on success; the tests in
# crates/irr/tests/real_irrd.rs run only when that variable is set.
# Stop it with: .ci/irrd-up.sh stop
# Recipe and pitfalls: shared/spec/real-parts.md §3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
D=${PM_IRRD_DIR:-/tmp/pm-irrd}
V=${PM_IRRD_VENV:-$HOME/.cache/pm-irrd-venv}
REDIS_PORT=${PM_IRRD_REDIS_PORT:-6391}
WHOIS_PORT=${PM_IRRD_WHOIS_PORT:-4343}
HTTP_PORT=${PM_IRRD_HTTP_PORT:-8043}
DB=${PM_IRRD_DB:-pm_irrd_test}

stop() {
  [ -f "$D/irrd.main.pid" ] && kill -TERM "$(cat "$D/irrd.main.pid")" 2>/dev/null || true
  [ -f "$D/redis.pid" ] && kill -TERM "$(cat "$D/redis.pid")" 2>/dev/null || true
  rm -f "$D/irrd.main.pid" "$D/redis.pid"
}
if [ "${1:-}" = stop ]; then stop; exit 0; fi

if ! command -v bgpq4 >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bgpq4 >/dev/null
fi
if ! command -v redis-server >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
if [ ! -x "$V/bin/irrd" ]; then
  python3 -m venv "$V"
  "$V/bin/pip" install -q 'irrd==4.5.4' >&2
fi

stop
mkdir -p "$D/run" "$D/gnupg" && chmod 700 "$D/gnupg"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --pidfile "$D/redis.pid" --logfile "$D/redis.log"
cat > "$D/irrd.yaml" <<YAML
irrd:
    database_url: 'postgresql://postgres:postgres@127.0.0.1:5432/$DB'
    redis_url: 'redis://127.0.0.1:$REDIS_PORT/0'
    piddir: $D/run
    server:
        http: {interface: 127.0.0.1, port: $HTTP_PORT, url: 'http://127.0.0.1:$HTTP_PORT/', workers: 1, status_access_list: localhost}
        whois: {interface: 127.0.0.1, port: $WHOIS_PORT, max_connections: 4}
    access_lists:
        localhost: ['127.0.0.1/32', '::1/128']
    auth:
        gnupg_keyring: $D/gnupg
        set_creation: {COMMON: {prefix_required: false, autnum_authentication: disabled}}
    email: {from: 'irrd@example.net', smtp: '127.0.0.1:2525'}
    rpki: {roa_source: null}
    log: {logfile_path: $D/irrd.log, level: INFO}
    sources_default: [TESTDB]
    sources:
        TESTDB: {authoritative: true, keep_journal: false}
YAML
export PGPASSWORD=${PGPASSWORD:-postgres}
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"$V/bin/irrd_database_upgrade" --config "$D/irrd.yaml" >&2
# Load before starting: a load into a running IRRd answers stale set queries.
"$V/bin/irrd_load_database" --config "$D/irrd.yaml" --source TESTDB "$ROOT/crates/irr/tests/testdb.rpsl" >&2
CI=1 setsid "$V/bin/irrd" --config "$D/irrd.yaml" --foreground > "$D/irrd.stdout" 2>&1 &
echo $! > "$D/irrd.main.pid"
deadline=$((SECONDS + 120))
wait_for() { until "$@"; do [ $SECONDS -lt $deadline ] || { echo "IRRd did not come up, see $D" >&2; exit 1; }; sleep 0.3; done; }
wait_for sh -c "printf '!v\n' | timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$WHOIS_PORT; cat >&3; timeout 1 cat <&3' | grep -q IRRd"
wait_for curl -sf -m 2 -o /dev/null "http://127.0.0.1:$HTTP_PORT/v1/status/"
# IRRd 4.5.4 start-up race: processes that subscribed after the first preload
# never get it and block on set queries; ask for a new preload.
redis-cli -p "$REDIS_PORT" PUBLISH irrd-preload-reload-channel unknown-classes-changed-preload-all >/dev/null
wait_for sh -c "curl -sf -m 2 'http://127.0.0.1:$HTTP_PORT/v1/whois/?q=%21iAS-TEST%2C1' | grep -q AS65001"
echo "export PM_TEST_IRRD=127.0.0.1:$WHOIS_PORT"
