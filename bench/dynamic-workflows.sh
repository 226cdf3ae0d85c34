#!/usr/bin/env bash
# Dynamic Workflows: the cost of a step dispatched to a tenant's dynamic
# worker against the same step bound statically (Isola, one run); and the
# dynamic-workflows example's instances/s, Isola vs wrangler dev, one run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }
[ -d tools/reference/node_modules/@cloudflare/dynamic-workflows ] || npm ci --prefix tools/reference --no-audit --no-fund --loglevel=error
exec go run ./bench/dynworkflows "$@"
