# Sourced by deploy/containers.sh: podman set up for this machine, and every image the stack needs.
# Each official image is used when present or pullable; otherwise a local stand-in is built from Debian's
# packages once and kept in podman's store (later runs on the same machine reuse it).

standin_prefix=localhost/qrlogin-standin
mirror=${QRL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
podman_compose=1.6.0

need_root() { if [ "$(id -u)" -ne 0 ]; then echo sudo; fi; }

ensure_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  [ -x /usr/lib/podman/aardvark-dns ] || missing+=(aardvark-dns)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian's ${missing[*]} (needs root)" >&2
    $(need_root) apt-get update -qq
    $(need_root) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # PyPI's podman-compose: Debian's 1.0.3 leaves `${VAR:-}` uninterpolated and ignores health conditions.
  if ! python3 -m podman_compose --version 2>/dev/null | grep -q "podman-compose version $podman_compose"; then
    echo "installing podman-compose $podman_compose from PyPI" >&2
    python3 -m pip install --quiet --disable-pip-version-check "podman-compose==$podman_compose"
  fi
}

# This sandbox's quirks, in a containers.conf of our own: crun fails on its hybrid cgroups (runc works), and
# resource limits cannot be raised above the host's (so containers get these, not podman's higher default).
podman_env() {
  mkdir -p "$work"
  cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF="$work/containers.conf"
}

have_or_pull() { podman image exists "$1" || podman pull -q "$1" >/dev/null 2>&1; }

# The runtime base: debian:bookworm-slim, or the same release made with mmdebstrap from the Debian mirror.
base_image() {
  local official=docker.io/library/debian:bookworm-slim standin=$standin_prefix/debian:bookworm
  if have_or_pull "$official"; then BASE_IMAGE=$official; return; fi
  BASE_IMAGE=$standin
  podman image exists "$standin" && return
  echo "no $official: making $standin with mmdebstrap from $mirror" >&2
  # As the official image: no docs, and apt keeps no package cache or downloaded .debs in later layers.
  mmdebstrap --quiet --variant=apt \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='cat >"$1/etc/apt/apt.conf.d/docker-clean" <<APT
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
APT' \
    --customize-hook='rm -rf "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*' \
    bookworm "$work/rootfs.tar" "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb ${mirror%/debian}/debian-security bookworm-security main"
  podman import -q --change 'CMD ["bash"]' "$work/rootfs.tar" "$standin" >/dev/null
  rm -f "$work/rootfs.tar"
}

# Sets the variable $1 (the compose file's QRL_*_IMAGE) to the official image $2 or the stand-in built from $3.
image_or_standin() {
  local var=$1 official=$2 name=$3 standin=$standin_prefix/$3:bookworm
  if have_or_pull "$official"; then export "$var=$official"; return; fi
  if ! podman image exists "$standin"; then
    echo "no $official: building $standin from Debian's packages" >&2
    podman build -q --format docker --build-arg BASE_IMAGE="$BASE_IMAGE" \
      -f "deploy/container/standins/$name.Containerfile" -t "$standin" deploy/container/standins >/dev/null
  fi
  export "$var=$standin"
}

# The two service images from deploy/container/Containerfile. With a rust image at hand it compiles inside
# (BINARY_FROM=build); otherwise the release binaries are built here and copied in (BINARY_FROM=prebuilt).
service_images() {
  local target=${CARGO_TARGET_DIR:-target} from=prebuilt context
  if [ "${QRL_BINARY_FROM:-}" = build ] || { [ -z "${QRL_BINARY_FROM:-}" ] && have_or_pull docker.io/library/rust:1.95-bookworm; }; then
    from=build
  else
    cargo build --release --locked -p web-gateway -p mobile-api --bins
  fi
  for service in web-gateway mobile-api; do
    context=.
    if [ "$from" = prebuilt ]; then
      context=$work/context-$service
      mkdir -p "$context"
      cp "$target/release/$service" "$context/$service"
    fi
    podman build -q --format docker --build-arg SERVICE="$service" --build-arg BINARY_FROM="$from" \
      --build-arg BASE_IMAGE="$BASE_IMAGE" -f deploy/container/Containerfile -t "qrlogin/$service" "$context" >/dev/null
    echo "image qrlogin/$service: $(podman image inspect --format '{{.Size}}' "qrlogin/$service" | numfmt --to=iec) ($from)" >&2
  done
}

all_images() {
  base_image
  image_or_standin QRL_REDIS_IMAGE docker.io/library/redis:7-bookworm redis
  image_or_standin QRL_NGINX_IMAGE docker.io/library/nginx:1.27-bookworm nginx
  image_or_standin QRL_PROMETHEUS_IMAGE docker.io/prom/prometheus:v2.53.0 prometheus
  service_images
}
