#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan + libFuzzer) into
# ${BUILD_DIR:-build-fuzz} and runs each for FUZZ_SECONDS (default 30). Fails
# on any crash, sanitizer report, leak, timeout or out-of-memory; the input
# that caused it is kept in BUILD_DIR/fuzz-artifacts/NAME/ (re-run it with
# `BUILD_DIR/fuzz/NAME_fuzzer FILE`).
#
#   scripts/fuzz.sh            build and run every fuzzer
#   scripts/fuzz.sh config     only config_fuzzer
#
# Inputs that found new coverage accumulate in BUILD_DIR/fuzz-corpus/NAME/, so
# later runs start where earlier ones stopped; the checked-in seeds in
# fuzz/corpus/NAME/ are only read.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build-fuzz}"
FUZZ_SECONDS="${FUZZ_SECONDS:-30}"

# name -> -max_len. Configs are a few hundred bytes; 4 KiB leaves room for
# deep nesting and long scalars without slowing every execution down.
ALL_FUZZERS=(config settlement)
# Settlement inputs are a script of handler actions; 2 KiB is a few hundred.
declare -A MAX_LEN=([config]=4096 [settlement]=2048)
if [ $# -gt 0 ]; then FUZZERS=("$@"); else FUZZERS=("${ALL_FUZZERS[@]}"); fi
for name in "${FUZZERS[@]}"; do
  [ -n "${MAX_LEN[$name]:-}" ] || { echo "fuzz.sh: unknown fuzzer '$name'" >&2; exit 2; }
done

"$REPO_ROOT/scripts/install-deps.sh"
RDKAFKA_PREFIX="$("$REPO_ROOT/scripts/install-librdkafka.sh" | tail -1)"
# ccache shares objects between clones and build directories (plain, sanitizer, fuzz).
source "$REPO_ROOT/scripts/lib/ccache_env.sh"
# Warnings stay warnings: -Werror is for the gcc build that CI already runs,
# clang warns about other things.
CC=clang CXX=clang++ cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DKAFKA_SIDECAR_FUZZ=ON -DKAFKA_SIDECAR_BUILD_TESTS=OFF -DKAFKA_SIDECAR_WERROR=OFF \
  -DKAFKA_SIDECAR_RDKAFKA_PREFIX="$RDKAFKA_PREFIX" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${FUZZERS[@]/%/_fuzzer}"

# Reports must end the run; libFuzzer's own -detect_leaks covers leaks.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

failed=()
for name in "${FUZZERS[@]}"; do
  seeds="$REPO_ROOT/fuzz/corpus/$name"
  corpus="$BUILD_DIR/fuzz-corpus/$name"
  artifacts="$BUILD_DIR/fuzz-artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  dict=()
  [ -f "$REPO_ROOT/fuzz/$name.dict" ] && dict=(-dict="$REPO_ROOT/fuzz/$name.dict")
  echo "== ${name}_fuzzer for ${FUZZ_SECONDS}s"
  start=$SECONDS
  touch "$BUILD_DIR/fuzz-$name.started"
  if "$BUILD_DIR/fuzz/${name}_fuzzer" "$corpus" "$seeds" "${dict[@]}" \
       -max_total_time="$FUZZ_SECONDS" -max_len="${MAX_LEN[$name]}" \
       -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$artifacts/" >"$BUILD_DIR/fuzz-$name.log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' \
      "$BUILD_DIR/fuzz-$name.log" || true
    echo "== ${name}_fuzzer: no findings in $((SECONDS - start))s"
  else
    tail -n 60 "$BUILD_DIR/fuzz-$name.log"
    echo "== ${name}_fuzzer FAILED; reproducer(s):" >&2
    find "$artifacts" -type f -newer "$BUILD_DIR/fuzz-$name.started" >&2
    failed+=("$name")
  fi
done

[ ${#failed[@]} -eq 0 ] || { echo "fuzz.sh: failed: ${failed[*]}" >&2; exit 1; }
