#!/usr/bin/env bash
# The benchmark, from a fresh clone: installs what it needs (idempotent),
# builds a Release tree in build-release, starts a real broker, measures, and
# writes docs/benchmarks.md and docs/bench/*.png. Takes 15-25 minutes on 2 cores.
#
#   bench/run.sh                       everything
#   bench/run.sh --only latency        one section (throughput latency memory scale)
#   bench/run.sh --messages 200000 --kb-messages 0 --languages   a quick look
#
# Arguments go to bench/run.py (--help lists them). BUILD_DIR overrides
# build-release; BENCH_KEEP_DIR=1 keeps the work directory with every log.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build-release}"

"$REPO_ROOT/scripts/install-deps.sh"
"$REPO_ROOT/bench/setup.sh"
BUILD_DIR="$BUILD_DIR" "$REPO_ROOT/scripts/build.sh" -DCMAKE_BUILD_TYPE=Release -DKAFKA_SIDECAR_BUILD_TESTS=OFF
exec "$REPO_ROOT/.venv/bin/python3" "$REPO_ROOT/bench/run.py" --build "$BUILD_DIR" "$@"
