#!/usr/bin/env bash
# Installs what building and testing need on a fresh machine; fast when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*" >&2; }

need_apt=()
command -v clang >/dev/null || need_apt+=(clang)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v chromium >/dev/null || need_apt+=(chromium)
# websockify: a relay we did not write, for the relay interop tests.
command -v websockify >/dev/null || need_apt+=(websockify)
if ((${#need_apt[@]})); then
  say "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown >/dev/null
fi

# std's source: scripts/build.sh rebuilds std for the shipped .wasm (size).
if ! rustup component list --installed | grep -qx rust-src; then
  say "rustup component add rust-src"
  rustup component add rust-src >/dev/null
fi

# wasm-bindgen-cli must match the wasm-bindgen crate exactly (Cargo.toml pins it).
want=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" != "$want" ]]; then
  say "cargo install wasm-bindgen-cli $want (a few minutes, once)"
  cargo install -q wasm-bindgen-cli --version "$want" >/dev/null
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
