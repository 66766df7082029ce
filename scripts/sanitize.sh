#!/usr/bin/env bash
# Builds the project under sanitizers and runs the unit tests and the
# mock-cluster tests (ctest labels unit and mock) under them. Any sanitizer
# report fails the run.
#
#   scripts/sanitize.sh              ASan+UBSan in build-asan, then TSan in build-tsan
#   scripts/sanitize.sh asan|tsan    only one of them
#
# BUILD_ASAN / BUILD_TSAN override the build directories.
#
# TSan only sees synchronisation in code it instruments or in pthread calls
# it intercepts. Debian's abseil is neither, so absl::Mutex and
# absl::Notification look like no synchronisation at all and every field they
# guard is reported as a race: project code locks with sidecar/common/mutex.h
# (std::mutex underneath) instead. librdkafka's C11 threads are made visible by
# cmake/tsan/c11_threads.c; scripts/tsan.supp drops what gRPC, abseil and
# librdkafka report about themselves. What cannot be fixed here: gRPC hands
# our objects (the reactor, each request it parsed) between its threads
# through synchronisation TSan cannot see, so a test that runs a gRPC server
# or client in-process must skip itself under TSan (__SANITIZE_THREAD__). The
# mock-cluster tests all do, so under TSan only the unit tests run.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_ASAN="${BUILD_ASAN:-$REPO_ROOT/build-asan}"
BUILD_TSAN="${BUILD_TSAN:-$REPO_ROOT/build-tsan}"
if [ $# -gt 0 ]; then MODES=("$@"); else MODES=(asan tsan); fi

# A unit test that stops running is a failure, not a reason to hang CI.
CTEST_ARGS=(--output-on-failure --timeout 300 -j"$(nproc)")

run_unit_tests() {  # BUILD_DIR
  # The unit label must find tests: none would mean the build lost them.
  ctest --test-dir "$1" "${CTEST_ARGS[@]}" -L '^unit$' --no-tests=error
}

run_unit_and_mock_tests() {  # BUILD_DIR
  run_unit_tests "$1"
  ctest --test-dir "$1" "${CTEST_ARGS[@]}" -L '^mock$' --no-tests=error
}

asan() {
  BUILD_DIR="$BUILD_ASAN" "$REPO_ROOT/scripts/build.sh" \
    -DKAFKA_SIDECAR_SANITIZE=address,undefined -DKAFKA_SIDECAR_WERROR=ON
  # LeakSanitizer works here (it needs ptrace of its own threads); set
  # SANITIZE_DETECT_LEAKS=0 where a container forbids that.
  ASAN_OPTIONS="halt_on_error=1:detect_leaks=${SANITIZE_DETECT_LEAKS:-1}:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    run_unit_and_mock_tests "$BUILD_ASAN"
}

tsan() {
  BUILD_DIR="$BUILD_TSAN" "$REPO_ROOT/scripts/build.sh" \
    -DKAFKA_SIDECAR_SANITIZE=thread -DKAFKA_SIDECAR_WERROR=ON
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$REPO_ROOT/scripts/tsan.supp" \
    run_unit_tests "$BUILD_TSAN"
}

for mode in "${MODES[@]}"; do
  case "$mode" in
    asan|tsan) ;;
    *) echo "sanitize.sh: unknown mode '$mode' (asan or tsan)" >&2; exit 2 ;;
  esac
done
for mode in "${MODES[@]}"; do
  start=$SECONDS
  echo "== sanitize.sh: $mode"
  "$mode"
  echo "== sanitize.sh: $mode passed in $((SECONDS - start))s"
done
