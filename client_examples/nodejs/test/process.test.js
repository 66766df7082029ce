'use strict';
// Handlers as processes: the README's minimal handler with nothing but the
// environment for configuration, and the helper's signal handling.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { FakeSidecar, waitFor } = require('./fake_sidecar');

const MINIMAL = path.join(__dirname, '..', 'packaging', 'minimal', 'handler.js');

// Starts a node process on a fake sidecar; resolves its exit and collects stderr.
async function startHandler(args) {
  const fake = new FakeSidecar();
  const address = await fake.start();
  const child = spawn(process.execPath, args, {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, SIDECAR_ADDRESS: address, HANDLER_NAME: 'from-env' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const proc = { fake, child, logs: '' };
  child.stderr.on('data', (d) => { proc.logs += d; });
  proc.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  proc.stop = () => { child.kill('SIGKILL'); fake.stop(); };
  return proc;
}

test('the minimal handler: env settings, ACK / REJECT, exit 0 on SIGTERM', async () => {
  const p = await startHandler([MINIMAL]);
  try {
    const s = await p.fake.nextStream(10000);
    assert.equal((await s.next()).subscribe.handler_name, 'from-env');
    s.subscribed({ ordering: 'ORDERING_NONE' });
    s.send({ batch: { batch_id: '1', topic: 't', partition: 0, messages: [
      { offset: '0', value: Buffer.from('{"id": 1, "amount": 5}'), timestamp_ms: '0', delivery_attempt: 1 },
      { offset: '1', value: Buffer.from('{"id": 2, "amount": '), timestamp_ms: '0', delivery_attempt: 1 },
      { offset: '2', timestamp_ms: '0', delivery_attempt: 1 },
      { offset: '3', value: Buffer.from('[1, 2]'), timestamp_ms: '0', delivery_attempt: 1 },
    ] } });
    const settle = await s.nextOf('settle');
    assert.deepEqual(settle.settle.settlements.map((x) => [x.outcome, x.offsets, x.reason]), [
      ['OUTCOME_ACK', ['0', '3'], ''],
      ['OUTCOME_REJECT', ['1'], 'malformed JSON: Unexpected end of JSON input'],
      ['OUTCOME_REJECT', ['2'], 'tombstone'],
    ]);
    p.child.kill('SIGTERM');
    await s.nextOf('half-close');
    assert.deepEqual(await p.exited, { code: 0, signal: null }, p.logs);
  } finally {
    p.stop();
  }
});

test('a second signal ends a stop that a handler holds up', async () => {
  const script = `require('@kafka-sidecar/client').run(() => {
    process.stderr.write('handling\\n');
    return new Promise(() => {});
  });`;
  const p = await startHandler(['-e', script]);
  try {
    const s = await p.fake.nextStream(10000);
    await s.next();
    s.subscribed();
    s.batch(1, 't', 0, [0]);
    await waitFor(() => p.logs.includes('handling'), 10000, 'the handler to hold the batch');
    p.child.kill('SIGINT');
    await waitFor(() => p.logs.includes('SIGINT: finishing held batches'), 10000, 'the first signal to be taken');
    p.child.kill('SIGINT');
    assert.deepEqual(await p.exited, { code: null, signal: 'SIGINT' }, p.logs);
  } finally {
    p.stop();
  }
});
