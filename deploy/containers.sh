#!/usr/bin/env bash
# The container stack (deploy/container/compose.yaml) under podman, as the web and mobile teams deploy it.
#   up         build every image, start Redis, two gateways, mobile-api, nginx and Prometheus with the development
#              values of deploy/dev.env, nginx on 127.0.0.1:${QRL_CONTAINERS_PORT:-8088}; wait until every
#              container is healthy by its own HEALTHCHECK, print `ready`, leave it running
#   down       remove every container, network and volume `up` made
#   test       up, the container tests (tests/tests/containers.rs) through nginx, then down, even on failure
#   kube-test  the Kubernetes manifests under `podman kube play` with the same images, a login through them,
#              then removed
# Needs root for podman (installs podman, runc and mmdebstrap from Debian's packages and
# podman-compose from PyPI if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$repo/target/containers
# shellcheck source=deploy/container/images.sh
. deploy/container/images.sh
# shellcheck source=deploy/container/kube.sh
. deploy/container/kube.sh

port=${QRL_CONTAINERS_PORT:-8088}
export QRL_CONTAINERS_PORT=$port QRL_PROMETHEUS_PORT=${QRL_PROMETHEUS_PORT:-9099}
compose=(python3 -m podman_compose --project-name qrlogin -f deploy/container/compose.yaml -f deploy/container/compose.dev.yaml)

# Runs a stage and prints its time; its exit status is the stage's (also where `set -e` does not apply, as in
# `timed ... || handle`).
timed() {
  local name=$1 started=$SECONDS status=0
  shift
  "$@" || status=$?
  echo "containers: $name took $((SECONDS - started)) s" >&2
  return "$status"
}

# deploy/dev.env, with the paths and addresses the containers see.
dev_env() {
  set -a
  # shellcheck source=deploy/dev.env
  . deploy/dev.env
  set +a
  export QRL_QR_BASE_URL="http://127.0.0.1:$port"
  export QRL_WEB_JWT_PRIVATE_KEY_FILE="$repo/deploy/dev/web-jwt-es256.pem"
  export QRL_USER_DIRECTORY_FILE=/etc/qrlogin/users.json
}

compose_up() {
  "${compose[@]}" up -d >"$work/compose-up.log" 2>&1 || { cat "$work/compose-up.log" >&2; return 1; }
}

containers() { podman ps -a --filter label=io.podman.compose.project=qrlogin --format '{{.Names}}'; }

# Waits until `check <container>` passes for each container named, within the deadline; else prints the log of
# the first that does not and fails.
wait_each() {
  local what=$1 check=$2 deadline=$((SECONDS + ${QRL_CONTAINERS_READY_SECS:-90})) name
  shift 2
  for name in "$@"; do
    until "$check" "$name"; do
      if [ $SECONDS -ge $deadline ]; then
        echo "containers: $name is not $what; its log:" >&2
        podman logs --tail 30 "$name" >&2 || true
        return 1
      fi
      sleep 1
    done
  done
}

# Healthy by the image's or compose file's own HEALTHCHECK; `podman healthcheck run` runs it now (no systemd
# timer runs it here). A container without one (Prometheus) only has to be running.
healthy() {
  podman healthcheck run "$1" >/dev/null 2>&1 \
    || { ! podman inspect --format '{{.Config.Healthcheck}}' "$1" | grep -q CMD \
         && [ "$(podman inspect --format '{{.State.Running}}' "$1")" = true ]; }
}

# Ready to serve: the service reaches Redis (its /readyz), which the liveness HEALTHCHECK does not say.
reaches_redis() { podman exec "$1" curl -fsS -o /dev/null http://127.0.0.1:8080/readyz 2>/dev/null; }

wait_healthy() {
  # shellcheck disable=SC2046 # one word per container name
  wait_each healthy healthy $(containers)
}

wait_ready() {
  wait_each "ready (it does not reach Redis)" reaches_redis qrlogin_gateway-a_1 qrlogin_gateway-b_1 qrlogin_mobile-api_1
}

up() {
  ensure_tools
  podman_env
  timed "images" all_images
  dev_env
  timed "compose up" compose_up
  timed "healthy" wait_healthy
  timed "ready" wait_ready
  echo ready
}

# Every container's last lines, for a failed test run.
show_logs() {
  local name
  for name in $(containers); do
    echo "--- podman logs --tail 40 $name" >&2
    podman logs --tail 40 "$name" >&2 2>&1 || true
  done
}

down() {
  podman_env
  dev_env
  "${compose[@]}" down -v >"$work/compose-down.log" 2>&1 || true
  # Whatever compose left (a half-made stack after a failed up).
  containers | xargs -r podman rm -f -t 5 >/dev/null
  podman network rm -f qrlogin_default >/dev/null 2>&1 || true
  podman volume rm -f qrlogin_redis-data >/dev/null 2>&1 || true
}

test_stack() {
  local tests=(cargo test -p qrlogin-e2e --features containers --test containers)
  # Built before the stack starts, so the tests meet it just after `ready`, as a deployment's first users do.
  timed "test build" "${tests[@]}" --no-run
  trap down EXIT
  up
  dev_env
  QRL_CONTAINERS_URL="http://127.0.0.1:$port" QRL_PROMETHEUS_URL="http://127.0.0.1:$QRL_PROMETHEUS_PORT" \
    timed "container tests" "${tests[@]}" -- --test-threads 1 || { show_logs; return 1; }
}

case ${1:-} in
  up) up ;;
  down) down ;;
  test) test_stack ;;
  kube-test) ensure_tools; podman_env; timed "images" all_images; kube_test ;;
  *) echo "usage: $0 up|down|test|kube-test" >&2; exit 2 ;;
esac
