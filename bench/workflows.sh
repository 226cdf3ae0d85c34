#!/usr/bin/env bash
# Workflows: creates/s and three-step instances/s, Isola vs wrangler dev's
# local engine, one run; then 100,000 sleeping instances on Isola with their
# resident memory and wake-up lateness.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }
[ -x tools/reference/node_modules/.bin/wrangler ] || npm ci --prefix tools/reference --no-audit --no-fund --loglevel=error
exec go run ./bench/workflows "$@"
