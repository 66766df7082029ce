#!/usr/bin/env bash
# Installs the Go helper's code generators (pinned, into the repository's
# git-ignored .tools/bin) and builds bin/example-handler. Idempotent and
# quick when nothing changed: generators are reinstalled only when a pinned
# version differs; `go build` is incremental.
# It never rewrites the committed stubs in gen/sidecarv1 (generate-stubs.sh
# does, after a proto change): the ctest go_stubs_current must see what is
# committed, not what setup just made. Users of the module need none of
# this: the stubs are committed.
set -euo pipefail

GO_MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=stubs.sh
. "$GO_MODULE_DIR/stubs.sh"

stubs_find_go
stubs_have_protoc

mkdir -p "$TOOLS"
if stubs_protoc_gen_go_current; then
  echo "client_examples/go: protoc-gen-go $PROTOC_GEN_GO_VERSION present"
else
  GOBIN="$TOOLS" "$GO" install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
  echo "client_examples/go: installed protoc-gen-go $PROTOC_GEN_GO_VERSION into .tools/bin"
fi
if stubs_protoc_gen_go_grpc_current; then
  echo "client_examples/go: protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION present"
else
  GOBIN="$TOOLS" "$GO" install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
  echo "client_examples/go: installed protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION into .tools/bin"
fi

(cd "$GO_MODULE_DIR" && "$GO" build -o bin/example-handler ./cmd/example-handler)
echo "client_examples/go: built client_examples/go/bin/example-handler"
