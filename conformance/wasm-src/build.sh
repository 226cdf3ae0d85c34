#!/bin/sh
# Regenerates the .wasm fixtures of the WebAssembly conformance cases from the
# .wat sources here (wabt's wat2wasm; `apt-get install wabt`). Each
# wasm-src/<case>/<name>.wat becomes cases/<case>/<name>.wasm.
set -eu
cd "$(dirname "$0")"
for wat in */*.wat; do
  case_dir=../cases/$(dirname "$wat")
  out=$case_dir/$(basename "$wat" .wat).wasm
  mkdir -p "$case_dir"
  # MVP plus the features these modules use (multi-value, reference types,
  # bulk memory, non-trapping float-to-int), all on by default in wabt 1.0.32.
  wat2wasm "$wat" -o "$out"
done
# 087: a "name" section (function and module names) and two custom sections
# called "meta", appended by hand (wat2wasm drops @custom annotations).
wat2wasm --debug-names 087-wasm-codegen/named.wat -o ../cases/087-wasm-codegen/named.wasm
printf '\000\012\004metafirst\000\013\004metasecond' >> ../cases/087-wasm-codegen/named.wasm
# 219: the parent worker also needs the bytes of add.wasm as a data module.
cp ../cases/219-loader-wasm/add.wasm ../cases/219-loader-wasm/add.bin
