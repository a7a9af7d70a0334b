#!/bin/sh
# HTTP/2 cleartext (h2c, prior knowledge) benchmark: h2load (-t1 -c50 -m10, 1 KiB responses) against
#   direct    - the origin itself (nginx serving a 1 KiB file over h2c, 1 worker)
#   nginx     - nginx as an h2c reverse proxy (1 worker; its upstream is HTTP/1.1 with keep-alive: nginx has no
#               HTTP/2 upstreams) in front of the origin
#   legate    - Legate --concurrency 1 (codec_type AUTO detects the h2c preface) in front of the origin over
#               HTTP/1.1, the same shape as nginx
#   legate-h2 - the same Legate listener shape with an HTTP/2 cluster (typed_extension_protocol_options, explicit
#               http2_protocol_options) to the origin's h2c port: the gRPC shape
# Runs are interleaved (direct, nginx, legate, legate-h2, direct, ...) ROUNDS times, DURATION seconds each; prints
# requests/s and mean request time per run (h2load prints no percentiles), the medians, and the ratios
# legate/nginx and legate/direct. Every run must finish with 0 failed requests.
# Needs: nginx, h2load (nghttp2-client), curl (installed with apt-get when missing and root).
# Usage: bench/h2.sh [ROUNDS] [DURATION_SECONDS]
set -eu
ROUNDS=${1:-3}
DURATION=${2:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/legate-bench-h2.XXXXXX)
ORIGIN_PORT=18181; ORIGIN_H2_PORT=18185; NGINX_PORT=18182; LEGATE_PORT=18183; LEGATE_H2_PORT=18186; ADMIN_PORT=18184

need() { command -v "$1" >/dev/null 2>&1; }
if ! need h2load || ! need nginx || ! need curl; then
  [ "$(id -u)" = 0 ] || { echo "bench: needs h2load, nginx and curl (apt-get install nghttp2-client nginx curl)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nghttp2-client nginx curl >/dev/null
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
  server { listen 127.0.0.1:$ORIGIN_PORT; listen 127.0.0.1:$ORIGIN_H2_PORT http2;
           root $WORK/www; location / { try_files /1k.txt =404; } }
  server { listen 127.0.0.1:$NGINX_PORT http2;
           location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
NGX
nginx -c "$WORK/nginx.conf" -p "$WORK"

listener() { # name port cluster
  cat <<YAML
  - name: $1
    address: { socket_address: { address: 127.0.0.1, port_value: $2 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: $1
          codec_type: AUTO
          route_config:
            virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: $3 } } ] } ]
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
YAML
}
{
  echo "admin: { address: { socket_address: { address: 127.0.0.1, port_value: $ADMIN_PORT } } }"
  echo "static_resources:"
  echo "  listeners:"
  listener bench "$LEGATE_PORT" origin
  listener bench_h2 "$LEGATE_H2_PORT" origin_h2
  cat <<YAML
  clusters:
  - name: origin
    connect_timeout: 1s
    load_assignment:
      cluster_name: origin
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $ORIGIN_PORT } } } } ] } ]
  - name: origin_h2
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: origin_h2
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $ORIGIN_H2_PORT } } } } ] } ]
YAML
} > "$WORK/legate.yaml"
"$ROOT/legate" -c "$WORK/legate.yaml" --concurrency 1 -l warn > "$WORK/legate.log" 2>&1 &
LEGATE_PID=$!
i=0
until curl -fsS --http2-prior-knowledge "http://127.0.0.1:$LEGATE_PORT/" >/dev/null 2>&1 \
    && curl -fsS --http2-prior-knowledge "http://127.0.0.1:$LEGATE_H2_PORT/" >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 600 ] || { echo "legate did not start:"; cat "$WORK/legate.log"; exit 1; }; sleep 0.2
  kill -0 "$LEGATE_PID" 2>/dev/null || { echo "legate exited:"; cat "$WORK/legate.log"; exit 1; }
done

H2LOAD="h2load -t1 -c50 -m10"
run() { # name port -> "rps mean_ms"
  timeout $((DURATION + 60)) $H2LOAD -D "$DURATION" "http://127.0.0.1:$2/" > "$WORK/$1.out" 2>&1 || true
  awk '/^requests:/ { if ($10 != 0 || $12 != 0 || $14 != 0) { print "bench: " n ": " $0 > "/dev/stderr"; exit 1 } }' n="$1" "$WORK/$1.out" || exit 1
  rps=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' "$WORK/$1.out")
  mean=$(awk '$1=="time" && $3=="request:" {v=$6; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' "$WORK/$1.out")
  [ -n "$rps" ] && [ -n "$mean" ] || { echo "bench: no result from h2load for $1:"; cat "$WORK/$1.out"; exit 1; } >&2
  echo "$rps $mean"
}
# warm-up, not counted: the JIT compiles Legate's data path in the first seconds of load
$H2LOAD -D 10 "http://127.0.0.1:$LEGATE_PORT/" >/dev/null 2>&1 || true
$H2LOAD -D 5 "http://127.0.0.1:$LEGATE_H2_PORT/" >/dev/null 2>&1 || true

: > "$WORK/results"
r=1
while [ $r -le "$ROUNDS" ]; do
  for t in direct:$ORIGIN_H2_PORT nginx:$NGINX_PORT legate:$LEGATE_PORT legate-h2:$LEGATE_H2_PORT; do
    name=${t%%:*}; port=${t#*:}
    res=$(run "$name" "$port") || exit 1
    set -- $res
    printf '%-9s round %d: %10.0f req/s   mean %8.2f ms\n' "$name" "$r" "$1" "$2"
    echo "$name $1 $2" >> "$WORK/results"
  done
  r=$((r+1))
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for n in direct nginx legate legate-h2; do
  v=$(echo "$n" | tr - _)
  eval "${v}_rps=\$(awk -v n=$n '\$1==n {print \$2}' "$WORK/results" | median)"
  eval "${v}_mean=\$(awk -v n=$n '\$1==n {print \$3}' "$WORK/results" | median)"
done
echo
echo "medians over $ROUNDS rounds of ${DURATION}s (h2load -t1 -c50 -m10, h2c, 1 KiB; Legate --concurrency 1):"
printf '  direct    %10.0f req/s  mean %7.2f ms\n' "$direct_rps" "$direct_mean"
printf '  nginx     %10.0f req/s  mean %7.2f ms   (HTTP/1.1 upstream)\n' "$nginx_rps" "$nginx_mean"
printf '  legate    %10.0f req/s  mean %7.2f ms   (HTTP/1.1 upstream)\n' "$legate_rps" "$legate_mean"
printf '  legate-h2 %10.0f req/s  mean %7.2f ms   (HTTP/2 upstream)\n' "$legate_h2_rps" "$legate_h2_mean"
awk -v lr="$legate_rps" -v nr="$nginx_rps" -v dr="$direct_rps" -v hr="$legate_h2_rps" -v lm="$legate_mean" -v nm="$nginx_mean" 'BEGIN {
  printf "  legate/nginx req/s %.2fx   mean latency %.2fx\n", lr/nr, lm/nm
  printf "  legate/direct req/s %.2fx   legate-h2/direct req/s %.2fx\n", lr/dr, hr/dr }'
