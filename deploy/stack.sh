#!/usr/bin/env bash
# README command 1: the whole stack on this machine. Starts Redis (port 6391, installing it if missing),
# builds and starts web-gateway (:8080) and mobile-api (:8081) with the development settings of
# deploy/dev.env, builds the reference phone client (target/debug/qrlogin-phone), prints how to log in acting
# as the phone, and stops everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

run=target/stack
mkdir -p "$run"
port=${QRL_STACK_REDIS_PORT:-6391}
deploy/redis.sh "$port" "$run/redis"

set -a
# shellcheck source=deploy/dev.env
. deploy/dev.env
set +a
export REDIS_URL="redis://127.0.0.1:$port"

# qrlogin-phone too: the instructions printed below act as the phone with it.
# The first build takes minutes: cargo shows its progress.
cargo build -p web-gateway -p mobile-api -p qrlogin-phone --bins

pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

# The web and app backends' stand-in (deploy/dev/receiver.py): prints each back-channel logout and login webhook.
receiver=
if command -v python3 >/dev/null 2>&1; then
  export QRL_BACKCHANNEL_LOGOUT_URL=http://127.0.0.1:8082/backchannel-logout
  export QRL_LOGIN_WEBHOOK_URL=http://127.0.0.1:8082/login-webhook
  export QRL_LOGIN_WEBHOOK_SECRET=dev-only-webhook-secret-0123456789abcdef
  python3 -u deploy/dev/receiver.py 8082 >"$run/receiver.log" 2>&1 &
  pids+=($!)
  receiver="  deliveries   $run/receiver.log   (back-channel logouts, login webhooks: tail -f it)"
fi

# Every configuration problem at once, in plain words, before anything starts (README "Operating the binaries").
target/debug/web-gateway check-config >/dev/null
target/debug/mobile-api check-config >/dev/null

QRL_LISTEN_ADDR=127.0.0.1:8080 target/debug/web-gateway >"$run/web-gateway.log" 2>&1 &
pids+=($!)
QRL_LISTEN_ADDR=127.0.0.1:8081 target/debug/mobile-api >"$run/mobile-api.log" 2>&1 &
pids+=($!)

for svc in 8080 8081; do
  for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$svc/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "http://127.0.0.1:$svc/readyz" >/dev/null || { echo "service on :$svc is not ready; see $run/*.log" >&2; exit 1; }
done

cat <<EOT
qrlogin is running (development settings from deploy/dev.env; logs in $run/).
  login page   http://127.0.0.1:8080/   <- open this in a browser
  web-gateway  http://127.0.0.1:8080   (JWKS: http://127.0.0.1:8080/.well-known/jwks.json)
  mobile-api   http://127.0.0.1:8081
  Redis        redis://127.0.0.1:$port
$receiver

Act as the phone with the reference client: save the page's QR (or a screenshot of the page) as login.png, then
  (set -a; . deploy/dev.env; target/debug/qrlogin-phone scan login.png --user alice)
and watch the page log in as alice.

Or log in with curl, acting as both browser and phone:
  # 1. browser: create a login session (keeps the binding cookie in /tmp/qrl.jar)
  curl -s -c /tmp/qrl.jar -X POST http://127.0.0.1:8080/v1/qr | tee /tmp/qrl.json | cut -c1-200; echo
  QR=\$(sed 's/.*"qr_content":"\\([^"]*\\)".*/\\1/' /tmp/qrl.json); UUID=\${QR##*/q/}; VER=\${UUID#*.}; UUID=\${UUID%%.*}
  # 2. phone: a development user token for alice, then scan and confirm
  TOKEN=\$(set -a; . deploy/dev.env; target/debug/qrlogin-phone dev-token --user alice)
  curl -s -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
       -d "{\"qr_content\":\"\$QR\"}" http://127.0.0.1:8081/v1/scan; echo
  curl -s -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
       -d "{\"uuid\":\"\$UUID\",\"verification\":\"\$VER\"}" http://127.0.0.1:8081/v1/confirm; echo
  # 3. browser: the next poll returns the web token, once
  curl -s -b /tmp/qrl.jar http://127.0.0.1:8080/v1/qr/\$UUID; echo

Press Ctrl-C to stop.
EOT
wait
