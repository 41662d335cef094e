#!/usr/bin/env bash
# Builds the engine to wasm, generates JS bindings in pkg/, optimises with wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q --release --target wasm32-unknown-unknown
wasm=target/wasm32-unknown-unknown/release/wasm_tls.wasm
stamp=pkg/.built-from
if [[ -f $stamp && pkg/wasm_tls_bg.wasm -nt $wasm ]]; then
  exit 0
fi
wasm-bindgen --target web --out-dir pkg --no-typescript "$wasm"
# npm's binaryen: Debian's (108) produces a module that fails to load after wasm-bindgen.
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals \
  pkg/wasm_tls_bg.wasm -o pkg/wasm_tls_bg.wasm
echo "$wasm" > "$stamp"
