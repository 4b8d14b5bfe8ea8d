#!/usr/bin/env bash
# CI for the browser client package (@qrlogin/web), from any directory: web-gateway/js/ci.sh
# Installs exactly the locked dev dependencies, checks that the generated API types match the gateway's
# openapi.json, type-checks the hand-written declarations against them, runs the unit tests (node --test, no
# browser), checks that web-gateway/static/qrlogin.js (what the gateway serves) is the build of the source, and
# packs the package into a temporary directory. Needs Node 20+ and npm; reaches the npm registry for `npm ci`.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }

step "node $(node --version), npm $(npm --version): npm ci"
npm ci --no-audit --no-fund

step "API types are generated from ../openapi.json (npm run types)"
generated="$(mktemp -d)"
trap 'rm -rf "$generated"' EXIT
npx openapi-typescript ../openapi.json -o "$generated/api-types.d.ts" >/dev/null
if ! diff -u src/api-types.d.ts "$generated/api-types.d.ts"; then
  echo "src/api-types.d.ts is stale: run 'npm run types' in web-gateway/js and commit it" >&2
  exit 1
fi
echo "src/api-types.d.ts is current"

step "declarations type-check against the generated types (npm run typecheck)"
npm run --silent typecheck
echo "qrlogin.d.ts and test/types-check.ts compile"

step "unit tests (node --test)"
node --test

step "the served file and the example page are the build (npm run check)"
npm run --silent check

step "npm pack into $generated"
npm pack --pack-destination "$generated"
ls -l "$generated"/*.tgz

step "the tarball installs and imports by its package name"
mkdir "$generated/app"
(
  cd "$generated/app"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --offline "$generated"/qrlogin-web-*.tgz >/dev/null
  node --input-type=module -e 'const m = await import("@qrlogin/web");
    if (typeof m.QrLogin.mount !== "function") throw new Error("no QrLogin.mount");
    console.log(`@qrlogin/web ${m.VERSION} imports`);'
)
echo
echo "web-gateway/js: all checks passed"
