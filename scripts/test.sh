#!/usr/bin/env bash
# Sets up everything and runs the whole test suite: unit tests, integration
# tests and end-to-end tests against a real Kafka broker (fetched from Maven
# Central on first use). Exits non-zero on any failure.
#
#   scripts/test.sh            all tests
#   scripts/test.sh -L unit    only one label (unit | integration | e2e)
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"

"$REPO_ROOT/scripts/build.sh" -DKAFKA_SIDECAR_WERROR=ON
"$REPO_ROOT/scripts/kafka.sh" fetch
# The SCRAM tests also run against a 3.9.1 broker, the last 3.x release.
KAFKA_VERSION=3.9.1 "$REPO_ROOT/scripts/kafka.sh" fetch
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 900 "$@"
