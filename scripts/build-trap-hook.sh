#!/usr/bin/env bash
# A test-only build with the trap hook (cargo feature `trap-hook`), as a whole
# package copy in target/trap-hook-package: js/ and package.json from here,
# pkg/ from this build. The shipped pkg/ is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/trap-hook-package
cargo build -q --profile trap-hook --features trap-hook --target wasm32-unknown-unknown
rm -rf "$out"
mkdir -p "$out/pkg"
wasm-bindgen --target web --out-dir "$out/pkg" --no-typescript target/wasm32-unknown-unknown/trap-hook/wasm_tls.wasm
rm -f "$out/pkg/package.json" # as scripts/build.sh
node scripts/patch-glue.mjs "$out/pkg/wasm_tls.js"
cp pkg/root-certificates.js pkg/root-certificates.json pkg/root-anchors.js "$out/pkg/"
cp -r js package.json "$out/"
ln -s "$PWD/node_modules" "$out/node_modules"
