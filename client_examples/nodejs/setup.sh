#!/usr/bin/env bash
# Installs node and npm if missing (the helper's tests and
# packaging/make_outside_project.sh need both) and the package's dependencies
# (@grpc/grpc-js and @grpc/proto-loader, exact versions in package-lock.json)
# into node_modules/ (git-ignored). proto-loader reads proto/ at run time, so
# there is no generated code to keep. Idempotent: `npm ci` runs only when the
# lock file changed since the last successful install.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE_MAJOR_MIN=18

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt "$NODE_MAJOR_MIN" ]; then
  echo "client_examples/nodejs: node $(node --version) is too old; need >= $NODE_MAJOR_MIN" >&2
  exit 1
fi

STAMP="$HERE/node_modules/.kafka-sidecar-lock.sha256"
want="$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "client_examples/nodejs: node_modules up to date"
else
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$STAMP"
  echo "client_examples/nodejs: installed node_modules from package-lock.json"
fi
