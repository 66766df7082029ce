'use strict';
// npm's prepack / postpack step. The repository's proto/ is the one source of
// sidecar.proto; the package carries a copy of it, made here while packing
// and removed afterwards, so the checkout holds no second copy to drift.
// Packing again from an unpacked package, where the repository is absent,
// keeps the copy it already carries.
//
//   node packaging/copy_proto.js           copy into proto/
//   node packaging/copy_proto.js --remove  delete that copy again

const fs = require('node:fs');
const path = require('node:path');
const { PACKAGE_ROOT, PACKAGED_PROTO, REPO_PROTO } = require('../lib/proto_path');

const inCheckout = fs.existsSync(REPO_PROTO);

if (process.argv[2] === '--remove') {
  if (inCheckout) fs.rmSync(path.join(PACKAGE_ROOT, 'proto'), { recursive: true, force: true });
} else if (inCheckout) {
  fs.mkdirSync(path.dirname(PACKAGED_PROTO), { recursive: true });
  fs.copyFileSync(REPO_PROTO, PACKAGED_PROTO);
} else if (!fs.existsSync(PACKAGED_PROTO)) {
  console.error(`copy_proto: neither ${REPO_PROTO} nor ${PACKAGED_PROTO} exists; pack from a checkout of the kafka-sidecar repository`);
  process.exit(1);
}
