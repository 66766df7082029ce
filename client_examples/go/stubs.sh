# Sourced by setup.sh and check-stubs.sh: the pinned code generators and how
# the committed stubs in gen/sidecarv1 are made from proto/, kept in one place
# so that the check regenerates exactly what setup.sh does.
# Expects GO_MODULE_DIR (this folder) to be set by the sourcing script.

REPO_ROOT="$(cd "$GO_MODULE_DIR/../.." && pwd)"
TOOLS="$REPO_ROOT/.tools/bin"
PROTO_ROOT="$REPO_ROOT/proto"
PROTO_REL=kafka_sidecar/v1/sidecar.proto
# Must equal go.mod's module line; the proto's go_package names
# $MODULE/gen/sidecarv1, so no import-path mapping is needed.
MODULE=github.com/kafka-sidecar/kafka-sidecar/client_examples/go

# Same versions as go.mod's runtime modules, so generated code and runtime match.
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.1

stubs_find_go() {
  GO="$(command -v go || true)"
  [ -n "$GO" ] || GO=/usr/local/go/bin/go
  [ -x "$GO" ] || { echo "client_examples/go: go not found (on PATH or /usr/local/go/bin)" >&2; return 1; }
}

stubs_have_protoc() {
  command -v protoc >/dev/null ||
    { echo "client_examples/go: protoc not found (apt package protobuf-compiler)" >&2; return 1; }
}

stubs_protoc_gen_go_current() {
  [ "$("$TOOLS/protoc-gen-go" --version 2>/dev/null)" = "protoc-gen-go $PROTOC_GEN_GO_VERSION" ]
}

stubs_protoc_gen_go_grpc_current() {
  [ "$("$TOOLS/protoc-gen-go-grpc" --version 2>/dev/null)" = "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}" ]
}

# protoc and the pinned generators, or a message saying what to run.
stubs_require_generators() {
  stubs_have_protoc || return 1
  if ! stubs_protoc_gen_go_current || ! stubs_protoc_gen_go_grpc_current; then
    echo "client_examples/go: the pinned generators are not in .tools/bin: run client_examples/go/setup.sh" >&2
    return 1
  fi
}

# stubs_generate OUT: writes OUT/gen/sidecarv1/*.pb.go (OUT/gen replaced).
stubs_generate() {
  local out="$1"
  rm -rf "$out/gen"
  mkdir -p "$out/gen"
  PATH="$TOOLS:$PATH" protoc -I "$PROTO_ROOT" \
    --go_out="$out" --go_opt="module=$MODULE" \
    --go-grpc_out="$out" --go-grpc_opt="module=$MODULE" \
    "$PROTO_ROOT/$PROTO_REL"
}
