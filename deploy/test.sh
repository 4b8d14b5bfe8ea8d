#!/usr/bin/env bash
# Runs every test against a real Redis of its own (port 6390), started here.
# README command 2; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${QRL_TEST_REDIS_PORT:-6390}
deploy/redis.sh "$port" target/test-redis
export QRL_TEST_REDIS_URL="redis://127.0.0.1:$port"

# The browser tests (tests/tests/browser) drive Debian's Chromium through its chromedriver.
if ! command -v chromedriver >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
  echo "chromium or chromedriver not found: installing Debian's packages (needs root)" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# The proxy tests (tests/tests/e2e/proxy.rs) run Debian's nginx with deploy/nginx/qrlogin.conf.
if [ ! -x /usr/sbin/nginx ]; then
  echo "nginx not found: installing Debian's package (needs root)" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi

# The web token verification examples (tests/tests/e2e/verifiers.rs) run on Node's jose and Python's PyJWT.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node or npm not found: installing Debian's packages (needs root)" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --silent --no-audit --no-fund --prefix web-gateway/examples/verify/node
python3 -c 'import jwt, cryptography' 2>/dev/null ||
  python3 -m pip install --quiet -r web-gateway/examples/verify/python/requirements.txt

# One build, one target dir for every test binary; benches run once each as smoke tests. `cargo test` never
# puts an example's binary at target/<profile>/examples/<name> (with --all-targets it even builds examples as
# test harnesses), so the Rust verifier example that verifiers.rs runs is built as a program first.
cargo build --workspace --examples --quiet
cargo test --workspace --all-targets "$@"

# The browser client package (web-gateway/js): its unit tests under Node, its types against the OpenAPI
# document, the served file being its build, and `npm pack`.
started=$SECONDS
web-gateway/js/ci.sh
echo "deploy/test.sh: the web client package took $((SECONDS - started)) s" >&2

# Contract fuzzing of both services against their OpenAPI documents (Schemathesis, from PyPI), on the binaries
# the tests just built.
started=$SECONDS
tests/contract/run.sh
echo "deploy/test.sh: contract fuzzing took $((SECONDS - started)) s" >&2
