#!/usr/bin/env bash
# Uses the C++ helper the way a user outside this repository would:
#   1. builds and installs the CMake package KafkaSidecarClient from
#      client_examples/cpp into OUT_DIR/prefix (its build tree: OUT_DIR/build-package);
#   2. creates a fresh CMake project in OUT_DIR/project from the README's
#      minimal handler (packaging/minimal/), which finds the package with
#      find_package(KafkaSidecarClient) via CMAKE_PREFIX_PATH;
#   3. builds it;
#   4. writes OUT_DIR/run-handler, which execs the handler (same pid, so
#      signals reach it). The handler reads SIDECAR_ADDRESS and HANDLER_NAME.
#
#   client_examples/cpp/packaging/make_outside_project.sh OUT_DIR
#
# OUT_DIR must lie outside the repository. Running it again rebuilds what
# changed. Needs cmake, a C++17 compiler, gRPC, protobuf and nlohmann-json
# (scripts/install-deps.sh installs them); uses ccache and ninja when present.
set -euo pipefail

die() {
  echo "make_outside_project: $*" >&2
  exit 1
}

[ $# -eq 1 ] || die "usage: $0 OUT_DIR"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGE_SRC="$(cd "$HERE/.." && pwd)"
REPO_ROOT="$(cd "$PACKAGE_SRC/../.." && pwd)"

# Checked before anything is created: nothing of this run lands in the repository.
OUT_DIR="$(realpath -m -- "$1")"
case "$OUT_DIR/" in
  "$(realpath -- "$REPO_ROOT")/"*) die "OUT_DIR ($OUT_DIR) is inside the repository; pick a directory outside it" ;;
esac
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
for tool in cmake c++; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh installs it)"
done

GENERATOR=()
command -v ninja >/dev/null && GENERATOR=(-G Ninja)
LAUNCHER=()
if command -v ccache >/dev/null; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Shares objects with the repository's own builds when present.
  [ -f "$REPO_ROOT/scripts/lib/ccache_env.sh" ] && source "$REPO_ROOT/scripts/lib/ccache_env.sh"
fi
JOBS="${JOBS:-2}"

PREFIX="$OUT_DIR/prefix"
PROJECT="$OUT_DIR/project"
echo "make_outside_project: installing KafkaSidecarClient into $PREFIX" >&2
cmake -S "$PACKAGE_SRC" -B "$OUT_DIR/build-package" "${GENERATOR[@]}" "${LAUNCHER[@]}" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null ||
  die "configuring the package failed (is libgrpc++-dev / protobuf-compiler-grpc installed?)"
cmake --build "$OUT_DIR/build-package" -j"$JOBS" || die "building the package failed"
cmake --install "$OUT_DIR/build-package" --prefix "$PREFIX" >/dev/null ||
  die "installing the package failed"

echo "make_outside_project: building the minimal handler in $PROJECT" >&2
mkdir -p "$PROJECT"
# -p: an unchanged file keeps its time, so a rerun rebuilds nothing.
cp -p "$HERE/minimal/handler.cc" "$HERE/minimal/CMakeLists.txt" "$PROJECT/"
cmake -S "$PROJECT" -B "$PROJECT/build" "${GENERATOR[@]}" "${LAUNCHER[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null ||
  die "configuring $PROJECT failed: find_package(KafkaSidecarClient) with CMAKE_PREFIX_PATH=$PREFIX"
cmake --build "$PROJECT/build" -j"$JOBS" || die "building $PROJECT failed"
[ -x "$PROJECT/build/handler" ] || die "$PROJECT/build/handler was not built"

{
  echo '#!/bin/sh'
  echo '# The minimal C++ handler; SIDECAR_ADDRESS and HANDLER_NAME from the environment.'
  printf 'exec %q "$@"\n' "$PROJECT/build/handler"
} >"$OUT_DIR/run-handler"
chmod +x "$OUT_DIR/run-handler"
echo "make_outside_project: $OUT_DIR/run-handler" >&2
