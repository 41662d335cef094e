#!/usr/bin/env bash
# Builds the engine to wasm, generates JS bindings in pkg/, optimises with wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."

# The shipped build takes unstable options, allowed on this stable toolchain by
# RUSTC_BOOTSTRAP (as scripts/fuzz.sh does), each measured on rustc 1.95 (KB gzip):
# - std rebuilt from rust-src (scripts/setup.sh) for size, with a panic that is
#   the wasm trap and nothing else (no hook, no message formatting): -12.7
#   (-Cpanic=immediate-abort 7.5, std's optimize_for_size 6.5, less 1.3 for keeping
#   std at opt-level 3 as rustup ships it: at "z" handshakes ran 5-8% slower);
# - `{:?}` formats nothing: -12.5. Our messages never use it; the text of a rare
#   rustls error that falls through to "internal error: ..." loses its Debug-printed
#   detail, never its code;
# - panics carry no file/line (they trap in wasm anyway): -5.9.
# Handshakes and ChaCha20-Poly1305 in wasm measured no slower. A toolchain that drops
# any of these fails here, loudly.
# And one stable LLVM option: every crate inlines as little as opt-level "z" does
# (threshold 5), ring and std included, which keep opt-level 3's other work (unrolling,
# vectorising: ChaCha20 needs those): -9.6 KB gzip; handshakes and ChaCha20 in wasm
# measured within noise of before (medians of 5-6 alternating rounds, within 3%).
RUSTC_BOOTSTRAP=1 cargo build -q --release --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size \
  --config profile.release.package.core.opt-level=3 --config profile.release.package.alloc.opt-level=3 \
  --config profile.release.package.std.opt-level=3 \
  --config 'target.wasm32-unknown-unknown.rustflags = ["-Zfmt-debug=none", "-Zlocation-detail=none", "-Zunstable-options", "-Cpanic=immediate-abort", "-Cllvm-args=-inline-threshold=5"]'
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
features=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-simd --enable-sign-ext --enable-mutable-globals)
node_modules/.bin/wasm-opt -Oz --converge --strip-debug --strip-producers "${features[@]}" pkg/wasm_tls_bg.wasm -o pkg/wasm_tls_bg.wasm
# Similar functions together, for gzip (scripts/order-functions.mjs): measured on rustc
# 1.95, -13.5 KB gzip -9 and -4.1 KB brotli; the code is the same. Four orders are
# made (two at a time) and the one that gzips smallest is kept.
order() {
  node scripts/order-functions.mjs --candidates "$1" pkg/wasm_tls_bg.wasm "pkg/order-$1.wasm"
  node_modules/.bin/wasm-opt --reorder-functions-by-name -Oz --strip-debug --strip-producers "${features[@]}" \
    "pkg/order-$1.wasm" -o "pkg/ordered-$1.wasm"
  gzip -9 -c "pkg/ordered-$1.wasm" | wc -c > "pkg/ordered-$1.size"
}
tries=(8 12 16 24)
for ((i = 0; i < ${#tries[@]}; i += 2)); do
  order "${tries[i]}" &
  first=$!
  order "${tries[i + 1]}"
  wait "$first"
done
best=
for n in "${tries[@]}"; do
  if [[ -z $best ]] || (($(<"pkg/ordered-$n.size") < $(<"pkg/ordered-$best.size"))); then best=$n; fi
done
mv "pkg/ordered-$best.wasm" pkg/wasm_tls_bg.wasm
for n in "${tries[@]}"; do rm -f "pkg/order-$n.wasm" "pkg/ordered-$n.wasm" "pkg/ordered-$n.size"; done
# Short import names, in the module and the glue together: -1.6 KB gzip.
node scripts/minify-imports.mjs pkg/wasm_tls.js pkg/wasm_tls_bg.wasm
echo "$wasm" > "$stamp"
