#!/bin/sh
# Redis benchmark: redis-benchmark (-c 50, GET and SET, random keys) against
#   direct  - redis-server itself (no persistence)
#   legate  - Legate --concurrency 1 with envoy.filters.network.redis_proxy in front of it
# without pipelining (-P 1) and with 16 commands per pipeline (-P 16). Runs are interleaved (direct, legate,
# direct, ...) ROUNDS times; each run is bounded by a request count (-n) sized to take a few seconds, and by
# `timeout`. Prints requests/s per run, the medians and the ratio legate/direct per case.
# Needs: redis-server, redis-benchmark (apt-get install redis-server redis-tools when missing and root).
# Usage: bench/redis.sh [ROUNDS]
set -eu
ROUNDS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/legate-bench-redis.XXXXXX)
REDIS_PORT=18379; LEGATE_PORT=18380; ADMIN_PORT=18381

need() { command -v "$1" >/dev/null 2>&1; }
if ! need redis-server || ! need redis-benchmark; then
  [ "$(id -u)" = 0 ] || { echo "bench: needs redis-server and redis-benchmark (apt-get install redis-server redis-tools)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server redis-tools >/dev/null
fi

cleanup() {
  [ -n "${LEGATE_PID:-}" ] && kill "$LEGATE_PID" 2>/dev/null || true
  [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
  sleep 0.5; rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

redis-server --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no --daemonize no > "$WORK/redis.log" 2>&1 &
REDIS_PID=$!

cat > "$WORK/legate.yaml" <<YAML
admin: { address: { socket_address: { address: 127.0.0.1, port_value: $ADMIN_PORT } } }
static_resources:
  listeners:
  - name: redis
    address: { socket_address: { address: 127.0.0.1, port_value: $LEGATE_PORT } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.redis_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: bench
          settings: { op_timeout: 5s }
          prefix_routes: { catch_all_route: { cluster: redis } }
  clusters:
  - name: redis
    connect_timeout: 1s
    lb_policy: RING_HASH
    load_assignment:
      cluster_name: redis
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $REDIS_PORT } } } } ] } ]
YAML
"$ROOT/legate" -c "$WORK/legate.yaml" --concurrency 1 -l warn > "$WORK/legate.log" 2>&1 &
LEGATE_PID=$!
i=0
until [ "$(redis-cli -p $LEGATE_PORT PING 2>/dev/null)" = PONG ]; do
  i=$((i+1)); [ $i -lt 600 ] || { echo "legate did not start:"; cat "$WORK/legate.log"; exit 1; }; sleep 0.2
done

bench() { # port pipeline requests -> "set_rps get_rps"
  timeout 120 redis-benchmark -h 127.0.0.1 -p "$1" -c 50 -P "$2" -n "$3" -r 100000 -t set,get --csv 2>/dev/null \
    | awk -F'"' '$2=="SET" {s=$4} $2=="GET" {g=$4} END {print s+0, g+0}'
}
# warm-up, not counted: the JIT compiles Legate's data path in the first seconds of load
bench $LEGATE_PORT 16 1000000 >/dev/null
bench $LEGATE_PORT 1 200000 >/dev/null

: > "$WORK/results"
for p in 1 16; do
  n=$([ "$p" = 1 ] && echo 200000 || echo 1000000)
  r=1
  while [ $r -le "$ROUNDS" ]; do
    for t in direct:$REDIS_PORT legate:$LEGATE_PORT; do
      name=${t%%:*}; port=${t#*:}
      set -- $(bench "$port" "$p" "$n")
      printf -- '-P %-2s %-6s round %d: SET %9.0f req/s   GET %9.0f req/s\n' "$p" "$name" "$r" "$1" "$2"
      echo "$p $name $1 $2" >> "$WORK/results"
    done
    r=$((r+1))
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "medians over $ROUNDS rounds (redis-benchmark -c 50 -r 100000; Legate --concurrency 1):"
for p in 1 16; do
  for cmd in SET GET; do
    col=$([ $cmd = SET ] && echo 3 || echo 4)
    d=$(awk -v p=$p -v c=$col '$1==p && $2=="direct" {print $c}' "$WORK/results" | median)
    l=$(awk -v p=$p -v c=$col '$1==p && $2=="legate" {print $c}' "$WORK/results" | median)
    awk -v p=$p -v c=$cmd -v d="$d" -v l="$l" 'BEGIN {
      printf "  -P %-2s %s  direct %9.0f req/s  legate %9.0f req/s  legate/direct %.2fx\n", p, c, d, l, (d > 0 ? l/d : 0) }'
  done
done
