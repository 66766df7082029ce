#!/usr/bin/env bash
# Builds a project outside the repository that uses the Node.js helper the
# way a user would: the helper packed with `npm pack`, then installed by its
# published name into a fresh npm project whose handler is the README's
# minimal handler (packaging/minimal/handler.js).
#
#   client_examples/nodejs/packaging/make_outside_project.sh OUT_DIR
#
# Leaves in OUT_DIR:
#   packages/kafka-sidecar-client-<version>.tgz  the packed helper
#   package.json, node_modules/                  "@kafka-sidecar/client": "file:packages/..."
#   handler.js                                   the minimal handler
#   run-handler                                  execs node on handler.js (SIDECAR_ADDRESS and
#                                                HANDLER_NAME come from the environment)
# Idempotent: running it again repacks and reinstalls into the same OUT_DIR.
# Needs node and npm (client_examples/nodejs/setup.sh) and the npm registry
# for the helper's dependencies (@grpc/grpc-js, @grpc/proto-loader).
set -euo pipefail

die() { echo "make_outside_project: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUT_DIR (a directory outside the repository)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG_DIR="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$PKG_DIR/../.." && pwd)"

command -v node >/dev/null || die "node not found; run client_examples/nodejs/setup.sh"
command -v npm >/dev/null || die "npm not found; run client_examples/nodejs/setup.sh"
NODE="$(command -v node)"

# Checked before anything is created: a project inside the repository could
# resolve the helper from the checkout instead of from the package.
OUT="$(realpath -m -- "$1")"
case "$OUT/" in
  "$(realpath -- "$REPO")"/*) die "$OUT is inside the repository; pass a directory outside it" ;;
esac
mkdir -p -- "$OUT" || die "cannot create $OUT"

npm_quiet=(--no-audit --no-fund --loglevel=error)

# (a) Pack the helper as it would be published; prepack copies proto/ in.
rm -rf "$OUT/packages"
mkdir -p "$OUT/packages"
tarball="$(cd "$PKG_DIR" && npm pack --json --pack-destination "$OUT/packages" "${npm_quiet[@]}" \
  | "$NODE" -e 'console.log(JSON.parse(require("node:fs").readFileSync(0, "utf8"))[0].filename)')"
[ -f "$OUT/packages/$tarball" ] || die "npm pack did not produce $OUT/packages/$tarball"

# (b) A fresh project that depends on the helper by its published name.
cd "$OUT"
if [ ! -f package.json ]; then
  npm init -y >/dev/null
  # npm init names the project after the directory, which may not be a valid name.
  npm pkg set name=kafka-sidecar-outside-project main=handler.js
  npm pkg set private=true --json
fi
npm pkg set scripts.start="node handler.js"
cp "$HERE/minimal/handler.js" handler.js
npm install "${npm_quiet[@]}" --prefer-offline "./packages/$tarball"

# (c) Nothing to compile: check that the handler parses and that the
# installed helper resolves and loads its own proto.
"$NODE" --check handler.js
"$NODE" -e '
  const client = require("@kafka-sidecar/client");
  const proto = client.defaultProtoPath();
  if (!proto.startsWith(require("node:path").join(process.cwd(), "node_modules") + "/")) {
    throw new Error(`the installed helper loads ${proto}, not its own copy`);
  }
  client.loadService();
'

# (d) The handler's launcher; exec keeps its pid, so signals reach node.
{
  echo '#!/bin/sh'
  echo '# Starts the minimal kafka-sidecar handler; SIDECAR_ADDRESS and HANDLER_NAME'
  echo '# come from the environment.'
  printf 'exec %q %q "$@"\n' "$NODE" "$OUT/handler.js"
} > run-handler
chmod +x run-handler
echo "make_outside_project: $OUT/run-handler ready ($tarball)"
