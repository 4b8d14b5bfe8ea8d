#!/usr/bin/env bash
# Runs every test against a real Redis of its own (port 6390), started here.
# README command 2; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${QRL_TEST_REDIS_PORT:-6390}
deploy/redis.sh "$port" target/test-redis
export QRL_TEST_REDIS_URL="redis://127.0.0.1:$port"

# One build, one target dir for every test binary; benches run once each as smoke tests.
cargo test --workspace --all-targets "$@"
