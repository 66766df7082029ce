#!/usr/bin/env bash
# Installs the Go example's code generators (pinned, into the repository's
# git-ignored .tools/bin), generates the gRPC stubs from proto/ into gen/
# (git-ignored) and builds bin/example-handler.
# Idempotent and quick when nothing changed: generators are reinstalled only
# when a pinned version differs, stubs regenerated only when the proto is
# newer than them; `go build` is incremental.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
TOOLS="$REPO_ROOT/.tools/bin"

# Same versions as go.mod's runtime modules, so generated code and runtime match.
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.1

GO="$(command -v go || true)"
[ -n "$GO" ] || GO=/usr/local/go/bin/go
[ -x "$GO" ] || { echo "client_examples/go: go not found" >&2; exit 1; }
command -v protoc >/dev/null || { echo "client_examples/go: protoc not found (apt package protobuf-compiler)" >&2; exit 1; }

mkdir -p "$TOOLS"
if [ "$("$TOOLS/protoc-gen-go" --version 2>/dev/null)" = "protoc-gen-go $PROTOC_GEN_GO_VERSION" ]; then
  echo "client_examples/go: protoc-gen-go $PROTOC_GEN_GO_VERSION present"
else
  GOBIN="$TOOLS" "$GO" install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
  echo "client_examples/go: installed protoc-gen-go $PROTOC_GEN_GO_VERSION into .tools/bin"
fi
if [ "$("$TOOLS/protoc-gen-go-grpc" --version 2>/dev/null)" = "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}" ]; then
  echo "client_examples/go: protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION present"
else
  GOBIN="$TOOLS" "$GO" install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
  echo "client_examples/go: installed protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION into .tools/bin"
fi

PROTO_ROOT="$REPO_ROOT/proto"
PROTO_REL=kafka_sidecar/v1/sidecar.proto
MODULE=kafka-sidecar/client_examples/go
# The proto's go_package names the main repository's layout; this module
# keeps its own copy under gen/sidecarv1.
MAP="M$PROTO_REL=$MODULE/gen/sidecarv1;sidecarv1"
STUB="$HERE/gen/sidecarv1/sidecar_grpc.pb.go"
if [ -f "$STUB" ] && [ "$STUB" -nt "$PROTO_ROOT/$PROTO_REL" ] && [ "$STUB" -nt "$HERE/setup.sh" ]; then
  echo "client_examples/go: stubs up to date"
else
  rm -rf "$HERE/gen"
  mkdir -p "$HERE/gen"
  PATH="$TOOLS:$PATH" protoc -I "$PROTO_ROOT" \
    --go_out="$HERE" --go_opt="module=$MODULE" --go_opt="$MAP" \
    --go-grpc_out="$HERE" --go-grpc_opt="module=$MODULE" --go-grpc_opt="$MAP" \
    "$PROTO_ROOT/$PROTO_REL"
  echo "client_examples/go: generated stubs into client_examples/go/gen"
fi

(cd "$HERE" && "$GO" build -o bin/example-handler ./cmd/example-handler)
echo "client_examples/go: built client_examples/go/bin/example-handler"
