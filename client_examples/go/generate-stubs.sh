#!/usr/bin/env bash
# Regenerates the committed gRPC stubs in gen/sidecarv1 from proto/ with the
# pinned generators (client_examples/go/setup.sh installs them). Run it after
# changing the proto, then commit gen/sidecarv1; the ctest go_stubs_current
# fails until the two agree.
set -euo pipefail

GO_MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=stubs.sh
. "$GO_MODULE_DIR/stubs.sh"

stubs_require_generators
stubs_generate "$GO_MODULE_DIR"
echo "client_examples/go: generated stubs into client_examples/go/gen/sidecarv1 (commit them)"
