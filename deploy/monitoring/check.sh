#!/usr/bin/env bash
# Checks deploy/monitoring: the rules parse and pass their unit tests (every alert has one that fires it and one
# that does not), the scrape config loads them, the dashboard is a sound Grafana model whose queries parse, and
# every metric, label and label value the rules and the dashboard select is one the services really export: both
# binaries are started against Redis, driven through a login, a second scanner, a poll slow-down, an issue limit
# and a bad-token limit (so the labelled series exist), and their /metrics scraped. Each step prints its time.
# .ci/run calls this after the tests, which build the binaries.
#   QRL_GATEWAY_BIN, QRL_MOBILE_BIN, QRL_PHONE_BIN  default ${CARGO_TARGET_DIR:-target}/debug/{web-gateway,...}
#   QRL_TEST_REDIS_URL                              default: starts deploy/redis.sh on 6390, as deploy/test.sh does
set -euo pipefail
cd "$(dirname "$0")/../.."
mon=deploy/monitoring
bin=${CARGO_TARGET_DIR:-target}/debug
gateway_bin=${QRL_GATEWAY_BIN:-$bin/web-gateway}
mobile_bin=${QRL_MOBILE_BIN:-$bin/mobile-api}
phone_bin=${QRL_PHONE_BIN:-$bin/qrlogin-phone}
work=$(mktemp -d)
pids=()
cleanup() {
  [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# promtool comes with Debian's prometheus package.
if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: installing Debian's prometheus package (needs root)" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

step() {
  local name=$1 started
  shift
  started=$(date +%s%N)
  echo "monitoring: $name" >&2
  "$@"
  echo "monitoring: $name took $(( ($(date +%s%N) - started) / 1000000 )) ms" >&2
}

# The dashboard's queries, as recording rules, so promtool parses them too.
check_dashboard() {
  python3 "$mon/check_queries.py" dashboard "$work/dashboard-queries.yaml"
  promtool check rules "$work/dashboard-queries.yaml"
}

free_ports() {
  python3 -c 'import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))'
}

start_services() {
  for b in "$gateway_bin" "$mobile_bin" "$phone_bin"; do
    [ -x "$b" ] || { echo "monitoring: $b not built (cargo build --bins)" >&2; return 1; }
  done
  local redis=${QRL_TEST_REDIS_URL:-}
  if [ -z "$redis" ]; then
    deploy/redis.sh 6390 target/test-redis
    redis=redis://127.0.0.1:6390
  fi
  # $(...) waits for python to exit, and so to release the ports (`read < <(...)` would not).
  local ports
  ports=$(free_ports)
  read -r gw_port gw_metrics m_port m_metrics <<<"$ports"
  set -a
  # shellcheck source=deploy/dev.env
  . deploy/dev.env
  set +a
  # A key prefix of its own: the tests may share this Redis. Low limits so one request more trips each.
  export REDIS_URL=$redis QRL_REDIS_KEY_PREFIX="qrl-monitoring-$$" QRL_CHECK_CODE=never
  QRL_LISTEN_ADDR=127.0.0.1:$gw_port QRL_METRICS_ADDR=127.0.0.1:$gw_metrics QRL_LIMIT_ISSUE_PER_IP=3/60 \
    "$gateway_bin" >"$work/web-gateway.log" 2>&1 &
  pids+=($!)
  QRL_LISTEN_ADDR=127.0.0.1:$m_port QRL_METRICS_ADDR=127.0.0.1:$m_metrics QRL_LIMIT_BAD_TOKEN_PER_IP=1/60 \
    "$mobile_bin" >"$work/mobile-api.log" 2>&1 &
  pids+=($!)
  gw=http://127.0.0.1:$gw_port m=http://127.0.0.1:$m_port
  for url in "$gw" "$m"; do
    for _ in $(seq 50); do
      curl -fsS "$url/readyz" >/dev/null 2>&1 && break
      sleep 0.2
    done
    curl -fsS "$url/readyz" >/dev/null || { cat "$work"/*.log >&2; echo "monitoring: $url not ready" >&2; return 1; }
    curl -fsS "$url/healthz" >/dev/null
  done
}

# `expect CODE curl-args...`: the request must answer CODE; its body goes to $work/body.
expect() {
  local want=$1 got
  shift
  got=$(curl -s -o "$work/body" -w '%{http_code}' "$@")
  [ "$got" = "$want" ] || { echo "monitoring: $* answered $got, not $want: $(head -c 300 "$work/body")" >&2; return 1; }
}

# A browser session: sets $qr, $uuid and $verification; the cookie jar is $work/$1.
create() {
  expect 201 -c "$work/$1" -X POST "$gw/v1/qr"
  qr=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["qr_content"])' <"$work/body")
  local ref=${qr##*/q/}
  uuid=${ref%%.*} verification=${ref#*.}
}

scan_as() {
  expect "$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "{\"qr_content\":\"$qr\"}" \
    "$m/v1/scan"
}

drive() {
  local alice bob
  alice=$("$phone_bin" dev-token --user alice)
  bob=$("$phone_bin" dev-token --user bob)
  # A complete login: issued, scanned, confirmed, claimed.
  create jar1
  scan_as 200 "$alice"
  expect 200 -H "Authorization: Bearer $alice" -H 'Content-Type: application/json' \
    -d "{\"uuid\":\"$uuid\",\"verification\":\"$verification\"}" "$m/v1/confirm"
  expect 200 -b "$work/jar1" "$gw/v1/qr/$uuid"
  grep -q '"token"' "$work/body" || { echo "monitoring: the claiming poll carried no token" >&2; return 1; }
  # A second user scans a scanned QR: cancelled with outcome second_scanner.
  create jar2
  scan_as 200 "$alice"
  scan_as 409 "$bob"
  # Polled three times at once: the poll clock tolerates one early poll, the third is told to slow down.
  create jar3
  expect 200 -b "$work/jar3" "$gw/v1/qr/$uuid"
  expect 200 -b "$work/jar3" "$gw/v1/qr/$uuid"
  expect 429 -b "$work/jar3" "$gw/v1/qr/$uuid"
  # The fourth session from this IP within a minute trips the issue limit (3/60).
  expect 429 -X POST "$gw/v1/qr"
  # The second invalid token trips the bad-token limit (1/60).
  scan_as 401 not-a-token
  scan_as 429 not-a-token
}

scrape() {
  # A scrape counts in the duration histogram only once answered: scrape twice so /metrics is in it too.
  for port in "$gw_metrics" "$m_metrics"; do curl -fsS "127.0.0.1:$port/metrics" >/dev/null; done
  curl -fsS "127.0.0.1:$gw_metrics/metrics" >"$work/web-gateway.metrics"
  curl -fsS "127.0.0.1:$m_metrics/metrics" >"$work/mobile-api.metrics"
}

step "promtool check rules" promtool check rules "$mon/alerts.yaml"
step "promtool test rules" promtool test rules "$mon/alerts.test.yaml"
step "every alert tested, annotated, in README" python3 "$mon/check_queries.py" coverage
step "promtool check config" promtool check config "$mon/prometheus.yml"
step "dashboard model and queries" check_dashboard
step "start web-gateway and mobile-api" start_services
step "drive a login, a second scanner and three limits" drive
step "scrape both /metrics" scrape
step "rules and dashboard select only exported series" \
  python3 "$mon/check_queries.py" exported "$work/web-gateway.metrics" "$work/mobile-api.metrics"
echo "monitoring: all checks passed" >&2
