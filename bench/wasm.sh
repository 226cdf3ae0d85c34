#!/usr/bin/env bash
# WebAssembly: calls, arithmetic, memory and instantiation, Isola vs workerd, one run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }
[ -x tools/reference/node_modules/.bin/workerd ] || npm ci --prefix tools/reference --no-audit --no-fund --loglevel=error
exec go run ./bench/wasm "$@"
