# Sourced by deploy/containers.sh: the Kubernetes manifests (deploy/k8s/qrlogin.yaml) under `podman kube play`,
# with the images `up` uses, as far as podman implements Kubernetes (deploy/container/kube_smoke.py says what it
# changes and why); then a whole login through the pods.

kube_gateway_port=${QRL_KUBE_GATEWAY_PORT:-18080}
kube_mobile_port=${QRL_KUBE_MOBILE_PORT:-18081}
kube_pods=(web-gateway-pod-0-web-gateway mobile-api-pod-0-mobile-api)

kube_down() {
  podman kube down "$work/kube.yaml" >/dev/null 2>&1 || true
  podman secret rm qrlogin >/dev/null 2>&1 || true
  podman network rm -f qrlogin-kube >/dev/null 2>&1 || true
}

# Ready by the manifest's own probes: podman turned the liveness probe into the container's health check, and
# the readiness probe's /readyz is asked on the published port (podman 4.3 does not act on readiness probes).
kube_wait_ready() {
  wait_each healthy healthy "${kube_pods[@]}" || return 1
  local deadline=$((SECONDS + ${QRL_CONTAINERS_READY_SECS:-90})) port
  for port in "$kube_gateway_port" "$kube_mobile_port"; do
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz"; do
      [ $SECONDS -lt $deadline ] || { echo "kube: :$port is not ready" >&2; return 1; }
      sleep 1
    done
  done
}

kube_test() {
  kube_down
  trap kube_down EXIT
  python3 deploy/container/kube_smoke.py deploy/k8s/qrlogin.yaml "$work/kube.yaml" "$work/kube-secret.json" \
    "$kube_gateway_port" "$kube_mobile_port" "$QRL_REDIS_IMAGE"
  podman secret create qrlogin "$work/kube-secret.json" >/dev/null
  podman network create qrlogin-kube >/dev/null
  timed "kube play" podman kube play --network qrlogin-kube "$work/kube.yaml" >"$work/kube-play.log" 2>&1 \
    || { cat "$work/kube-play.log" >&2; return 1; }
  timed "kube ready" kube_wait_ready
  dev_env
  QRL_CONTAINERS_URL="http://127.0.0.1:$kube_gateway_port" QRL_CONTAINERS_MOBILE_URL="http://127.0.0.1:$kube_mobile_port" \
    timed "kube login" cargo test -p qrlogin-e2e --features containers --test containers -- --exact \
    login::a_whole_login_ends_with_a_token_the_jwks_verifies
}
