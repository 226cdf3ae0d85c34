#!/usr/bin/env bash
# WebSocket echo round trips, Isola vs workerd, one run (bench/websockets).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }
[ -d tools/reference/node_modules/workerd ] || npm ci --prefix tools/reference --no-audit --no-fund --loglevel=error
exec go run ./bench/websockets "$@"
