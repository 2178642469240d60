#!/usr/bin/env bash
# The shell of the cmk-check GitHub Action (action.yml), kept here so it runs and is tested
# outside GitHub. `run.sh install` puts the binary on the job's PATH; `run.sh run` runs it and
# writes the step outputs. Everything comes from the environment, as GitHub passes it:
#   INPUT_VERSION, INPUT_INSTALL, INPUT_ARGS, INPUT_PATH, INPUT_FORMAT, INPUT_FAIL_ON,
#   INPUT_WORKING_DIRECTORY, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT,
#   GITHUB_ACTION_PATH; CMK_CHECK_DOWNLOAD_BASE replaces the releases' address (a file:// URL
#   for a stand-in release directory).
set -euo pipefail

base="${CMK_CHECK_DOWNLOAD_BASE:-https://github.com/cmk-check/cmk-check/releases}"
temp="${RUNNER_TEMP:?RUNNER_TEMP is not set}"

fail() {
  echo "::error title=cmk-check::$1" >&2
  exit 1
}

# The release's name for the runner's platform: static musl binaries on Linux.
target() {
  case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
    *) fail "no release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}: use install: cargo" ;;
  esac
}

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

install_release() {
  local version="${INPUT_VERSION:-latest}" platform archive url dir
  platform="$(target)"
  # A .tar.gz on every platform: Git Bash on Windows runners has tar, not always unzip.
  archive="cmk-check-${platform}.tar.gz"
  if [ "$version" = latest ]; then
    url="${base}/latest/download/${archive}"
  else
    url="${base}/download/v${version#v}/${archive}"
  fi
  dir="${temp}/cmk-check-release"
  rm -rf "$dir"
  mkdir -p "$dir/bin"
  curl --fail --silent --show-error --location --retry 3 --output "$dir/$archive" "$url" ||
    fail "could not download $url"
  curl --fail --silent --show-error --location --retry 3 --output "$dir/$archive.sha256" "$url.sha256" ||
    fail "could not download $url.sha256"
  local want got
  want="$(cut -d' ' -f1 <"$dir/$archive.sha256")"
  got="$(sha256 "$dir/$archive")"
  [ -n "$want" ] && [ "$want" = "$got" ] ||
    fail "the checksum of $archive is $got, but the release says ${want:-nothing}: not installed"
  tar -xzf "$dir/$archive" -C "$dir/bin"
  echo "$dir/bin" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
}

install_cargo() {
  local root="${temp}/cmk-check-cargo"
  cargo install --locked --path "${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}" --root "$root"
  echo "$root/bin" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
}

# The count of findings at level $2 (`error` or `warning`) in the SARIF file $1, leaving out the
# exempted (suppressed) ones, as the summary line counts them. jq is on every GitHub runner.
count() {
  [ -s "$1" ] || return 0
  jq --arg level "$2" \
    '[.runs[].results[] | select(.level == $level and ((.suppressions // []) | length) == 0)] | length' "$1"
}

run() {
  cd "${INPUT_WORKING_DIRECTORY:-.}"
  local format="${INPUT_FORMAT:-github}" fail_on="${INPUT_FAIL_ON:-error}"
  local sarif="${temp}/cmk-check.sarif"
  local -a args
  if [ -n "${INPUT_ARGS:-}" ]; then
    # Words split on whitespace, never evaluated: no quoting, no expansion.
    read -r -a args <<<"$INPUT_ARGS"
  elif [ -n "${INPUT_PATH:-}" ]; then
    args=(check --template "$INPUT_PATH")
  else
    args=(audit)
  fi
  # The action sets these itself, from its inputs: given twice, cmk-check would refuse to run.
  local arg
  for arg in "${args[@]}"; do
    case "$arg" in
      --format | --format=* | --output | --output=* | -o | -o* | --fail-on | --fail-on=* | --sarif-output | --sarif-output=*)
        fail "args: ${arg%%=*} is set by the action (use its format and fail-on inputs; the SARIF file is its sarif-file output)"
        ;;
    esac
  done
  local code=0
  # One run: the log in the format asked for (annotations and the job summary with `github`),
  # and the SARIF file beside it, so Azure is read once.
  rm -f "$sarif"
  cmk-check "${args[@]}" --fail-on "$fail_on" --format "$format" --sarif-output "$sarif" || code=$?
  {
    echo "exit-code=$code"
    if [ "$code" -ne 2 ] && [ -s "$sarif" ]; then
      echo "sarif-file=$sarif"
    else
      echo "sarif-file="
    fi
    echo "errors=$(count "$sarif" error)"
    echo "warnings=$(count "$sarif" warning)"
  } >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
}

case "${1:-}" in
  install)
    case "${INPUT_INSTALL:-release}" in
      release) install_release ;;
      cargo) install_cargo ;;
      *) fail "install: ${INPUT_INSTALL} is neither release nor cargo" ;;
    esac
    ;;
  run) run ;;
  *) fail "usage: run.sh install|run" ;;
esac
