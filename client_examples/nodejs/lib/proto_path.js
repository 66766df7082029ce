'use strict';
// Where sidecar.proto is. The package carries its own copy in proto/ (copied
// in from the repository's proto/ when the package is packed), and an
// installed package (one under node_modules/) uses only that copy, never
// looking outside itself. In a checkout of the repository the repository's
// proto/ comes first: it is the one source of the file, and a copy left by
// an interrupted `npm pack` could be stale.
// No dependencies: packaging/copy_proto.js uses this before any install.

const fs = require('node:fs');
const path = require('node:path');

const RELATIVE = path.join('proto', 'kafka_sidecar', 'v1', 'sidecar.proto');
const PACKAGE_ROOT = path.resolve(__dirname, '..');
const PACKAGED_PROTO = path.join(PACKAGE_ROOT, RELATIVE);
const REPO_PROTO = path.resolve(PACKAGE_ROOT, '..', '..', RELATIVE);

function isInstalled() {
  return PACKAGE_ROOT.split(path.sep).includes('node_modules');
}

function defaultProtoPath() {
  const candidates = isInstalled() ? [PACKAGED_PROTO] : [REPO_PROTO, PACKAGED_PROTO];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`sidecar.proto not found; looked at ${candidates.join(', ')}`);
  return found;
}

module.exports = { defaultProtoPath, PACKAGE_ROOT, PACKAGED_PROTO, REPO_PROTO };
