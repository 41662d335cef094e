#!/usr/bin/env bash
# Builds the engine to wasm, generates JS bindings in pkg/, optimises with wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."

# Two unstable rustc flags, allowed on this stable toolchain by RUSTC_BOOTSTRAP, for
# the shipped build only: `{:?}` formats nothing (our messages never use it; the
# text of a rare rustls error that falls through to "internal error: ..." loses
# its Debug-printed detail, never its code) and panics carry no
# file/line (a panic traps in wasm anyway). Measured on rustc 1.95: 358.4 -> 339.7 KB
# gzip (-Zfmt-debug=none 12.5 KB, -Zlocation-detail=none 5.9 KB). A toolchain that
# drops either flag fails here, loudly.
RUSTC_BOOTSTRAP=1 cargo build -q --release --target wasm32-unknown-unknown \
  --config 'target.wasm32-unknown-unknown.rustflags = ["-Zfmt-debug=none", "-Zlocation-detail=none"]'
# tls.rootCertificates (js/root-certificates.js): whole Mozilla roots from the dev-dependency
# webpki-root-certs, and the engine's default trust anchors (pkg/root-anchors.js, from the
# dev-dependency webpki-roots), generated natively into pkg/, never in the wasm. Before the
# early exit below.
roots=pkg/root-certificates
if [[ ! -f $roots.js || ! -f $roots.json || ! -f pkg/root-anchors.js || Cargo.lock -nt $roots.js || examples/gen_root_certificates.rs -nt $roots.js ]]; then
  cargo run -q --example gen_root_certificates -- pkg
fi
wasm=target/wasm32-unknown-unknown/release/wasm_tls.wasm
stamp=pkg/.built-from
if [[ -f $stamp && pkg/wasm_tls_bg.wasm -nt $wasm ]]; then
  exit 0
fi
wasm-bindgen --target web --out-dir pkg --no-typescript "$wasm"
# wasm-bindgen copies our package.json dependencies there (it has js/ snippets); without
# "type": "module" it would make Node re-parse pkg/ as ES modules with a warning.
rm -f pkg/package.json
node scripts/patch-glue.mjs pkg/wasm_tls.js
# npm's binaryen: Debian's (108) produces a module that fails to load after wasm-bindgen.
node_modules/.bin/wasm-opt -Oz --converge --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int --enable-simd \
  --enable-sign-ext --enable-mutable-globals \
  pkg/wasm_tls_bg.wasm -o pkg/wasm_tls_bg.wasm
echo "$wasm" > "$stamp"
