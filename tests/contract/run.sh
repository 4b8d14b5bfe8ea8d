#!/usr/bin/env bash
# Contract fuzzing: Schemathesis generates requests from each service's OpenAPI document (GET /openapi.json)
# and fails on any 5xx, any status, header, content type or body the document does not describe. Both debug
# binaries run on a Redis of their own (port 6394) with deploy/dev.env's settings and every rate limit off, so
# refusals do not hide deeper states; hooks.py points half the requests at real logins in every state.
# deploy/test.sh runs it after the cargo tests (which build the binaries). QRL_CONTRACT_EXAMPLES: cases per
# operation and phase on the gateway (default 300; mobile-api, with fewer operations, gets three times as many).
set -euo pipefail
cd "$(dirname "$0")/../.."

examples=${QRL_CONTRACT_EXAMPLES:-300}
port=${QRL_CONTRACT_REDIS_PORT:-6394}
run=target/contract
mkdir -p "$run"
python3 -c 'import schemathesis' 2>/dev/null || python3 -m pip install --quiet 'schemathesis>=4.32,<5'
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug
deploy/redis.sh "$port" "$run/redis"
python3 tests/contract/examples.py web-gateway/openapi.json mobile-api/openapi.json

set -a
# shellcheck source=deploy/dev.env
. deploy/dev.env
REDIS_URL="redis://127.0.0.1:$port"
QRL_REDIS_KEY_PREFIX="contract-$$"
QRL_LIMIT_ISSUE_PER_IP=0 QRL_LIMIT_ISSUE_GLOBAL=0 QRL_LIMIT_SCAN_PER_USER=0 QRL_LIMIT_DECIDE_PER_USER=0
QRL_LIMIT_STATUS_PER_USER=0 QRL_LIMIT_BAD_TOKEN_PER_IP=0
set +a
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
gateway="http://127.0.0.1:$(free_port)"
mobile="http://127.0.0.1:$(free_port)"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
QRL_LISTEN_ADDR=${gateway#http://} "$bin/web-gateway" >"$run/web-gateway.log" 2>&1 &
pids+=($!)
QRL_LISTEN_ADDR=${mobile#http://} "$bin/mobile-api" >"$run/mobile-api.log" 2>&1 &
pids+=($!)
for url in "$gateway" "$mobile"; do
  for _ in $(seq 100); do curl -fsS "$url/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "$url/readyz" >/dev/null || { echo "contract: $url not ready; see $run/*.log" >&2; exit 1; }
done

export QRL_CONTRACT_GATEWAY=$gateway QRL_CONTRACT_MOBILE=$mobile
QRL_CONTRACT_TOKEN=$("$bin/qrlogin-phone" dev-token --user alice)
export QRL_CONTRACT_TOKEN SCHEMATHESIS_HOOKS=hooks PYTHONPATH=tests/contract
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
fuzz() {
  local name=$1 url=$2 examples=$3
  shift 3
  echo "contract: $name ($url/openapi.json), $examples cases per operation and phase" >&2
  schemathesis run "$url/openapi.json" --checks "$checks" --max-examples "$examples" --seed 1 --workers 2 \
    --request-timeout 15 --no-color --report junit --report-junit-path "$run/$name.junit.xml" "$@"
  python3 - "$run/$name.junit.xml" "$name" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
print(f"contract: {sys.argv[2]}: {sum(int(s.get('tests', 0)) for s in suites)} operations tested, "
      f"{sum(int(s.get('failures', 0)) + int(s.get('errors', 0)) for s in suites)} failing", file=sys.stderr)
PY
}
fuzz web-gateway "$gateway" "$examples"
fuzz mobile-api "$mobile" $((examples * 3)) -H "Authorization: Bearer $QRL_CONTRACT_TOKEN"

# What the services answered, from their access logs (the hooks' own set-up requests included): a 5xx is a
# failure even where a check did not see it.
for name in web-gateway mobile-api; do
  statuses=$(grep -o 'access: request done status=[0-9]*' "$run/$name.log" | grep -o '[0-9]*$' | sort | uniq -c |
    awk '{printf "%s %s, ", $1, $2}')
  echo "contract: $name answered $(grep -c 'access: request done' "$run/$name.log") requests: ${statuses%, }" >&2
  if grep -q 'access: request done status=5' "$run/$name.log"; then
    echo "contract: $name answered 5xx; see $run/$name.log" >&2
    exit 1
  fi
done
