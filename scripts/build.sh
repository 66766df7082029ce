#!/usr/bin/env bash
# Installs what the build needs (idempotent) and builds everything into
# ${BUILD_DIR:-build}. Extra arguments go to the cmake configure step.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"

"$REPO_ROOT/scripts/install-deps.sh"
RDKAFKA_PREFIX="$("$REPO_ROOT/scripts/install-librdkafka.sh" | tail -1)"
# ccache shares objects between clones and build directories (plain, sanitizer, fuzz).
source "$REPO_ROOT/scripts/lib/ccache_env.sh"
cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DKAFKA_SIDECAR_RDKAFKA_PREFIX="$RDKAFKA_PREFIX" \
  "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
