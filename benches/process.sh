#!/usr/bin/env bash
# Whole-process wall time and peak memory of `cmk-check check --snapshot` (release build).
# Usage: bash benches/process.sh [FIXTURE] [RUNS]
# Needs hyperfine and GNU time (Debian: apt-get install hyperfine time); fails when either or the
# binary is missing rather than print a number that means nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
fixture=${1:-fixtures/clean.json}
runs=${2:-200}
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/cmk-check"
if [ ! -x "$bin" ]; then
  echo "benches/process.sh: no binary at $bin after the build" >&2
  exit 1
fi
for tool in hyperfine /usr/bin/time; do
  if ! command -v "$tool" >/dev/null; then
    echo "benches/process.sh: $tool is missing (apt-get install hyperfine time)" >&2
    exit 1
  fi
done
args=(check --snapshot "$fixture" --now 2026-11-27T12:00:00Z)
# The exit code is the verdict (1 for a failing fixture); anything above 1 is a failure to run.
status=0
"$bin" "${args[@]}" >/dev/null || status=$?
if [ "$status" -gt 1 ]; then
  echo "benches/process.sh: cmk-check exited $status on $fixture" >&2
  exit 1
fi
hyperfine --warmup 10 --runs "$runs" -N -i "$bin ${args[*]}"
/usr/bin/time -f "peak RSS: %M KiB" "$bin" "${args[@]}" >/dev/null || true
