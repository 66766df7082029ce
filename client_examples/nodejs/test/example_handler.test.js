'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Reject, Retry } = require('@kafka-sidecar/client');
const { handleMessage, digest } = require('../example_handler');
const { FakeSidecar } = require('./fake_sidecar');

const msg = (value, deliveryAttempt = 1) => ({
  topic: 't', partition: 0, offset: 7, key: null, value: value === null ? null : Buffer.from(value), deliveryAttempt,
});

test('acks valid JSON and digests its numeric fields', () => {
  assert.equal(handleMessage(msg('{"id": 3, "amount": 4.5, "tags": ["a", 2]}')), true);
  assert.deepEqual(digest({ id: 3, amount: 4.5, tags: ['a', 2], nested: { x: 1 } }), { sum: 10.5, fields: 5 });
});

test('rejects what does not parse, with the parse error as the reason', () => {
  assert.throws(() => handleMessage(msg('{"id": ')), (err) => err instanceof Reject && /t\/0@7: .*JSON/.test(err.message));
  const badUtf8 = { ...msg(''), value: Buffer.from([0x7b, 0xff, 0x7d]) };
  assert.throws(() => handleMessage(badUtf8), Reject);
});

test('fail_once on a first delivery is a transient failure: RETRY after 50 ms', () => {
  const failOnce = '{"id": 1, "fail_once": true}';
  for (const attempt of [0, 1]) {
    assert.throws(() => handleMessage(msg(failOnce, attempt)), (err) => err instanceof Retry
      && err.message === 'transient failure (fail_once)' && err.afterMs === 50, `attempt ${attempt}`);
  }
  assert.equal(handleMessage(msg(failOnce, 2)), true, 'processed when delivered again');
  assert.equal(handleMessage(msg('{"fail_once": false}', 1)), true);
  assert.equal(handleMessage(msg('{"fail_once": "true"}', 1)), true, 'only the JSON value true');
  assert.equal(handleMessage(msg('[true]', 1)), true, 'only in an object');
  assert.throws(() => handleMessage(msg('{"fail_once": true', 1)), Reject, 'malformed stays REJECT');
});

test('acks a tombstone: there is nothing to process', () => {
  assert.equal(handleMessage(msg(null)), true);
});

test('the program reads its settings from the environment and exits 0 on SIGTERM after settling', async () => {
  const fake = new FakeSidecar();
  const address = await fake.start();
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'example_handler.js')], {
    env: { ...process.env, SIDECAR_ADDRESS: address, HANDLER_NAME: 'from-env' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let logs = '';
  child.stderr.on('data', (d) => { logs += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const s = await fake.nextStream(10000);
    const sub = await s.next();
    assert.equal(sub.subscribe.handler_name, 'from-env');
    s.subscribed();
    s.batch(1, 't', 0, [0, 1], (o) => Buffer.from(o === 0 ? '{"n": 1}' : 'not json'));
    const settle = await s.nextOf('settle');
    assert.deepEqual(settle.settle.settlements.map((x) => [x.outcome, x.offsets]), [
      ['OUTCOME_ACK', ['0']],
      ['OUTCOME_REJECT', ['1']],
    ]);
    child.kill('SIGTERM');
    await s.nextOf('half-close');
    assert.deepEqual(await exited, { code: 0, signal: null }, logs);
  } finally {
    child.kill('SIGKILL');
    fake.stop();
  }
});
