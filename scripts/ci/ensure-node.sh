#!/usr/bin/env bash
# Prints the bin directory of a Node.js of the given major version, installed once into
# .ci/cache from the npm registry's `node` package (whose binary is itself an npm package,
# so no download site beyond the registry is needed):
#   PATH="$(bash scripts/ci/ensure-node.sh 24):$PATH" node --version
set -euo pipefail
major=${1:?usage: ensure-node.sh <major>}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prefix="$root/.ci/cache/node-$major"
bin="$prefix/node_modules/.bin"
if ! "$bin/node" --version 2>/dev/null | grep -q "^v$major\."; then
  echo "[ensure-node] installing node@$major ..." >&2
  rm -rf "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --no-package-lock --loglevel=error "node@$major" >&2
fi
echo "$bin"
