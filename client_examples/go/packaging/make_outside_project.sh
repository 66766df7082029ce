#!/usr/bin/env bash
# make_outside_project.sh OUT_DIR
#
# Builds, in OUT_DIR (outside this repository), the project a user of the Go
# helper writes: its own module requiring
# github.com/kafka-sidecar/kafka-sidecar/client_examples/go, whose main.go is
# packaging/minimal/main.go (the README's handler). Until that module path is
# published, a replace directive points it at this checkout's module
# directory, which is how `go get` would resolve it; nothing else of the
# repository is used (the stubs are committed, so no protoc either).
# Leaves OUT_DIR/run-handler, which execs the built handler.
# Idempotent: OUT_DIR may be empty or made by an earlier run.
set -euo pipefail

die() { echo "make_outside_project.sh: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: make_outside_project.sh OUT_DIR (an empty directory outside the repository)"

GO_MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=../stubs.sh
. "$GO_MODULE_DIR/stubs.sh"
REPO_ROOT="$(cd "$REPO_ROOT" && pwd -P)"
stubs_find_go || die "install Go first (client_examples/go/setup.sh expects it on PATH or in /usr/local/go/bin)"

OUT="$(realpath -m -- "$1")"
case "$OUT/" in
  "$REPO_ROOT"/*) die "$OUT is inside the repository ($REPO_ROOT); pass a directory outside it" ;;
esac
mkdir -p "$OUT" || die "cannot create $OUT"
# Only what this script makes may be there: never clobber someone's project.
for f in "$OUT"/* "$OUT"/.[!.]*; do
  [ -e "$f" ] || continue
  case "$(basename "$f")" in
    go.mod | go.sum | main.go | orders-handler | run-handler) ;;
    *) die "$OUT holds $(basename "$f"), which this script does not make; pass an empty directory" ;;
  esac
done

# (a) The module as it would be published: its path, and the committed stubs
# a user gets instead of running protoc.
[ "$("$GO" -C "$GO_MODULE_DIR" list -m)" = "$MODULE" ] ||
  die "$GO_MODULE_DIR/go.mod does not declare module $MODULE"
[ -f "$GO_MODULE_DIR/gen/sidecarv1/sidecar.pb.go" ] && [ -f "$GO_MODULE_DIR/gen/sidecarv1/sidecar_grpc.pb.go" ] ||
  die "the committed stubs are missing from $GO_MODULE_DIR/gen/sidecarv1"

# (b) A fresh module depending on the helper by its module path.
export GOWORK=off # a go.work of the caller's must not pull other modules in
cd "$OUT"
rm -f go.mod go.sum
cp "$GO_MODULE_DIR/packaging/minimal/main.go" main.go
"$GO" mod init example.com/orders-handler >/dev/null 2>&1 || die "go mod init failed in $OUT"
"$GO" mod edit -require="$MODULE@v0.0.0" -replace="$MODULE=$GO_MODULE_DIR"
"$GO" mod tidy || die "go mod tidy failed in $OUT"

# (c) Build.
"$GO" build -o orders-handler . || die "go build failed in $OUT"

# (d) exec, so that the handler has the script's pid and signals reach it.
cat > run-handler <<'SCRIPT'
#!/bin/sh
# Runs orders-handler (SIDECAR_ADDRESS and HANDLER_NAME from the environment).
exec "$(dirname "$0")/orders-handler" "$@"
SCRIPT
chmod +x run-handler
echo "make_outside_project.sh: built $OUT/orders-handler; run it with $OUT/run-handler"
