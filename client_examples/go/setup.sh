#!/usr/bin/env bash
# Installs the Go helper's code generators (pinned, into the repository's
# git-ignored .tools/bin), regenerates the committed gRPC stubs in
# gen/sidecarv1 when the proto changed, and builds bin/example-handler.
# Idempotent and quick when nothing changed: generators are reinstalled only
# when a pinned version differs, stubs regenerated only when the proto (or
# the generation recipe) is newer than them; `go build` is incremental.
# Users of the module need none of this: the stubs are committed.
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

STUB="$GO_MODULE_DIR/gen/sidecarv1/sidecar_grpc.pb.go"
if [ -f "$STUB" ] && [ "$STUB" -nt "$PROTO_ROOT/$PROTO_REL" ] && [ "$STUB" -nt "$GO_MODULE_DIR/stubs.sh" ]; then
  echo "client_examples/go: stubs up to date"
else
  stubs_generate "$GO_MODULE_DIR"
  echo "client_examples/go: generated stubs into client_examples/go/gen/sidecarv1 (commit them)"
fi

(cd "$GO_MODULE_DIR" && "$GO" build -o bin/example-handler ./cmd/example-handler)
echo "client_examples/go: built client_examples/go/bin/example-handler"
