#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up, build, Rust tests, JS tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cargo fmt --check
cargo clippy -q --all-targets -- -D warnings
cargo clippy -q --target wasm32-unknown-unknown --lib -- -D warnings
cargo test -q
bash scripts/build-trap-hook.sh # the test-only build with the trap hook (tests/js/trap.test.js)
FUZZ_SECONDS=${FUZZ_SECONDS:-45} bash scripts/fuzz.sh # every fuzz target briefly; fails on any crash
node --test --test-concurrency=1 tests/js/
