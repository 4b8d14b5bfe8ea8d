#!/usr/bin/env bash
# Starts a Redis of our own on 127.0.0.1:<port>, installing Debian's redis-server first if it is missing.
# Usage: deploy/redis.sh <port> <data dir>. Idempotent: a Redis already answering on that port is left alone.
set -euo pipefail
port=${1:?port}
dir=${2:?data dir}

if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found: installing Debian's package (needs root)" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi

if redis-cli -p "$port" ping >/dev/null 2>&1; then
  exit 0
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# No persistence: login sessions live for minutes and are worthless after a restart of a dev/test Redis.
# maxmemory + volatile-ttl: under memory pressure the sessions closest to expiry go first (see README).
redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
  --save '' --appendonly no --maxmemory 256mb --maxmemory-policy volatile-ttl

for _ in $(seq 50); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "Redis did not start on port $port; see $dir/redis.log" >&2
exit 1
