'use strict';
// The package as npm publishes it: its metadata, what the packed tarball
// holds, and the README's handler being the one the packaging test builds.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const REPO_PROTO = path.resolve(ROOT, '..', '..', 'proto', 'kafka_sidecar', 'v1', 'sidecar.proto');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('package.json describes a public package with its dependencies', () => {
  assert.equal(pkg.name, '@kafka-sidecar/client');
  assert.equal(pkg.version, '0.1.0');
  assert.equal(pkg.private, undefined);
  assert.equal(pkg.license, 'Apache-2.0');
  assert.equal(pkg.main, 'lib/index.js');
  assert.equal(pkg.exports['.'], './lib/index.js');
  assert.ok(pkg.engines.node, 'engines.node');
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['@grpc/grpc-js', '@grpc/proto-loader']);
  assert.deepEqual(Object.keys(require('../lib/index')).sort(),
    ['Reject', 'Retry', 'SidecarClient', 'defaultProtoPath', 'loadService', 'run']);
});

test('the packed tarball holds the library and the proto, and no tests or example', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-sidecar-pack-'));
  try {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tarball = path.join(dir, JSON.parse(out)[0].filename);
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.ok(files.includes('package/proto/kafka_sidecar/v1/sidecar.proto'), files.join('\n'));
    assert.ok(files.includes('package/lib/index.js'));
    assert.ok(files.includes('package/package.json'));
    assert.ok(files.includes('package/README.md'));
    const unwanted = files.filter((f) => /^package\/(test|packaging|node_modules)\/|example_handler|setup\.sh|CMakeLists/.test(f));
    assert.deepEqual(unwanted, []);
    execFileSync('tar', ['-xzf', tarball, '-C', dir]);
    assert.equal(fs.readFileSync(path.join(dir, 'package/proto/kafka_sidecar/v1/sidecar.proto'), 'utf8'),
      fs.readFileSync(REPO_PROTO, 'utf8'), 'the packed proto is the repository\'s');
    assert.equal(fs.existsSync(path.join(ROOT, 'proto')), false, 'postpack removes the copy from the checkout');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the README starts with the minimal handler, verbatim', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const first = readme.match(/```[a-z]*\n([\s\S]*?)```/);
  assert.ok(first, 'README has a code block');
  assert.equal(first[1], fs.readFileSync(path.join(ROOT, 'packaging', 'minimal', 'handler.js'), 'utf8'));
  assert.ok(readme.includes('npm install @kafka-sidecar/client\n'), 'install command');
});
