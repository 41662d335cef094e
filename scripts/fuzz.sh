#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/) and runs each for FUZZ_SECONDS (default 45);
# fails if any target finds a crash, a panic or a hang (crashing inputs land in
# fuzz/artifacts/<target>/). Works on the stable toolchain: RUSTC_BOOTSTRAP=1
# lets it take the -Z flags cargo fuzz passes.
#   bash scripts/fuzz.sh                 every target
#   bash scripts/fuzz.sh keys pfx        some targets
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh client_records
# Env: FUZZ_SECONDS, FUZZ_SANITIZER (none|address; default none, see fuzz/RUNS.md),
#      FUZZ_TIMEOUT (seconds one input may take before it counts as a hang; default 30).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-45}
sanitizer=${FUZZ_SANITIZER:-none}
timeout=${FUZZ_TIMEOUT:-30}
say() { echo "fuzz: $*" >&2; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  say "cargo install cargo-fuzz (once)"
  cargo install -q cargo-fuzz --version 0.13.2 --locked >/dev/null
fi

export RUSTC_BOOTSTRAP=1
cd fuzz
mapfile -t targets < <(if (($#)); then printf '%s\n' "$@"; else cargo fuzz list; fi)

say "building ${targets[*]} (sanitizer: $sanitizer)"
mkdir -p target
cargo fuzz build -s "$sanitizer" >/dev/null 2>target/build.log || {
  tail -40 target/build.log >&2
  exit 1
}

# New inputs go to a scratch corpus; the committed one (corpus/<target>) is read only.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t" "corpus/$t"
  say "$t: ${seconds}s"
  if ! cargo fuzz run -s "$sanitizer" "$t" "$scratch/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=4096 \
    -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
    failed+=("$t")
    grep -E 'ERROR|panicked|Test unit written|SUMMARY' "$scratch/$t.log" | head -20 >&2 || true
  fi
  grep -E '^stat::number_of_executed_units' "$scratch/$t.log" | sed "s/^/fuzz: $t: /" >&2 || true
done

if ((${#failed[@]})); then
  say "FAILED: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
say "no crash in ${targets[*]}"
