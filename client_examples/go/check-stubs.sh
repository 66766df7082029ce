#!/usr/bin/env bash
# Fails when the committed stubs in gen/sidecarv1 are not what the pinned
# generators make from the current proto: users of the module get the
# committed files, never a regeneration. Run by ctest (go_stubs_current).
set -euo pipefail

GO_MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=stubs.sh
. "$GO_MODULE_DIR/stubs.sh"

stubs_require_generators

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
stubs_generate "$tmp"

# The header names the local protoc's version, which says nothing about the
# code: a machine with another protoc must not fail on it.
strip_protoc_version() { grep -v '^//[[:space:]-]*protoc[[:space:]]\+v' "$1"; }

stale=0
for f in "$tmp"/gen/sidecarv1/*.go; do
  name="$(basename "$f")"
  committed="$GO_MODULE_DIR/gen/sidecarv1/$name"
  if [ ! -f "$committed" ]; then
    echo "client_examples/go: gen/sidecarv1/$name is missing" >&2
    stale=1
  elif ! diff -u <(strip_protoc_version "$committed") <(strip_protoc_version "$f") \
      --label "committed gen/sidecarv1/$name" --label "regenerated $name" >&2; then
    stale=1
  fi
done
for f in "$GO_MODULE_DIR"/gen/sidecarv1/*.go; do
  [ -e "$f" ] || continue
  [ -f "$tmp/gen/sidecarv1/$(basename "$f")" ] ||
    { echo "client_examples/go: gen/sidecarv1/$(basename "$f") is not generated from the proto" >&2; stale=1; }
done
if [ "$stale" -ne 0 ]; then
  echo "client_examples/go: the committed stubs are stale: run client_examples/go/generate-stubs.sh and commit gen/sidecarv1" >&2
  exit 1
fi
echo "client_examples/go: committed stubs match proto/$PROTO_REL"
