#!/usr/bin/env bash
# Whole-process wall time and peak memory of `cmk-check check --snapshot` (release build).
# Usage: bash benches/process.sh [FIXTURE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
fixture=${1:-fixtures/clean.json}
runs=${2:-200}
cargo build --release --quiet
bin=target/release/cmk-check
args=(check --snapshot "$fixture" --now 2026-11-27T12:00:00Z)
"$bin" "${args[@]}" >/dev/null || true   # warm the page cache

if command -v hyperfine >/dev/null; then
  hyperfine --warmup 10 --runs "$runs" -N -i "$bin ${args[*]}"
else
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$bin" "${args[@]}" >/dev/null || true; done
  end=$(date +%s%N)
  echo "mean wall time: $(( (end - start) / runs / 1000 )) µs over $runs runs"
fi

if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "peak RSS: %M KiB" "$bin" "${args[@]}" >/dev/null || true
else
  echo "peak RSS: install GNU time (apt-get install time) to measure it"
fi
