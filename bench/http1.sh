#!/bin/sh
# HTTP/1.1 keep-alive benchmark: wrk (-t1 -c50, 1 KiB responses) against
#   direct  - the origin itself (nginx serving a 1 KiB file, 1 worker)
#   nginx   - nginx as a reverse proxy (1 worker, upstream keep-alive) in front of the origin
#   legate  - Legate with --concurrency 1 in front of the origin
# Runs are interleaved (direct, nginx, legate, direct, ...) ROUNDS times, DURATION each; prints requests/s and
# p99 per run, the medians, and the ratios legate/nginx and legate/direct.
# Needs: nginx, wrk (installed with apt-get when missing and root). Usage: bench/http1.sh [ROUNDS] [DURATION]
set -eu
ROUNDS=${1:-3}
DURATION=${2:-10s}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/legate-bench.XXXXXX)
ORIGIN_PORT=18081; NGINX_PORT=18082; LEGATE_PORT=18083; ADMIN_PORT=18084

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx; then
  [ "$(id -u)" = 0 ] || { echo "bench: needs wrk and nginx (apt-get install wrk nginx)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk nginx >/dev/null
fi

cleanup() {
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [ -n "${LEGATE_PID:-}" ] && kill "$LEGATE_PID" 2>/dev/null || true
  sleep 0.5; rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mkdir -p "$WORK/www"
head -c 1024 /dev/zero | tr '\0' 'x' > "$WORK/www/1k.txt"
chmod -R a+rX "$WORK"  # nginx workers run as an unprivileged user
cat > "$WORK/nginx.conf" <<NGX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
daemon on;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 128; }
  server { listen 127.0.0.1:$ORIGIN_PORT; root $WORK/www; location / { try_files /1k.txt =404; } }
  server { listen 127.0.0.1:$NGINX_PORT;
           location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
NGX
nginx -c "$WORK/nginx.conf" -p "$WORK"

cat > "$WORK/legate.yaml" <<YAML
admin: { address: { socket_address: { address: 127.0.0.1, port_value: $ADMIN_PORT } } }
static_resources:
  listeners:
  - name: bench
    address: { socket_address: { address: 127.0.0.1, port_value: $LEGATE_PORT } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          route_config:
            virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: origin } } ] } ]
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: origin
    connect_timeout: 1s
    load_assignment:
      cluster_name: origin
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $ORIGIN_PORT } } } } ] } ]
YAML
"$ROOT/legate" -c "$WORK/legate.yaml" --concurrency 1 -l warn > "$WORK/legate.log" 2>&1 &
LEGATE_PID=$!
i=0
until curl -fsS "http://127.0.0.1:$LEGATE_PORT/" >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 600 ] || { echo "legate did not start:"; cat "$WORK/legate.log"; exit 1; }; sleep 0.2
done

run() { # name port -> "rps p99ms"
  wrk -t1 -c50 -d"$DURATION" --latency "http://127.0.0.1:$2/" > "$WORK/$1.out" 2>&1
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/$1.out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' "$WORK/$1.out")
  echo "$rps $p99"
}
# warm-up, not counted: the JIT compiles Legate's data path in the first seconds of load
wrk -t1 -c50 -d15s "http://127.0.0.1:$LEGATE_PORT/" >/dev/null 2>&1

: > "$WORK/results"
r=1
while [ $r -le "$ROUNDS" ]; do
  for t in direct:$ORIGIN_PORT nginx:$NGINX_PORT legate:$LEGATE_PORT; do
    name=${t%%:*}; port=${t#*:}
    set -- $(run "$name" "$port")
    printf '%-7s round %d: %10.0f req/s   p99 %8.2f ms\n' "$name" "$r" "$1" "$2"
    echo "$name $1 $2" >> "$WORK/results"
  done
  r=$((r+1))
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for n in direct nginx legate; do
  eval "${n}_rps=\$(awk -v n=$n '\$1==n {print \$2}' "$WORK/results" | median)"
  eval "${n}_p99=\$(awk -v n=$n '\$1==n {print \$3}' "$WORK/results" | median)"
done
echo
echo "medians over $ROUNDS rounds of $DURATION (wrk -t1 -c50, 1 KiB, keep-alive; Legate --concurrency 1):"
printf '  direct %10.0f req/s  p99 %7.2f ms\n' "$direct_rps" "$direct_p99"
printf '  nginx  %10.0f req/s  p99 %7.2f ms\n' "$nginx_rps" "$nginx_p99"
printf '  legate %10.0f req/s  p99 %7.2f ms\n' "$legate_rps" "$legate_p99"
awk -v lr="$legate_rps" -v nr="$nginx_rps" -v dr="$direct_rps" -v lp="$legate_p99" -v np="$nginx_p99" 'BEGIN {
  printf "  legate/nginx req/s %.2fx   p99 %.2fx   (goal: >= 1.0x req/s at <= 1.2x p99)\n", lr/nr, lp/np
  printf "  legate/direct req/s %.2fx\n", lr/dr }'
