'use strict';
// The stream loop against the fake sidecar: subscribe, hand over, settle,
// order, concurrency, reconnects, draining, stop, extend, paused, signals.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Reject } = require('../lib/outcomes');
const { resolveOptions } = require('../lib/options');
const { withSidecar, waitFor } = require('./fake_sidecar');

function gate() {
  let open;
  const p = new Promise((r) => { open = r; });
  return { wait: () => p, open: () => open() };
}

const rows = (req) => req.settle.settlements.map((x) => [x.outcome, x.offsets]);

test('subscribes, hands messages over and acks the whole batch in one Settle', () => withSidecar(async (fake, make) => {
  const seen = [];
  make((m) => { seen.push(m); return true; }, { maxInFlightMessages: 7, topics: ['t'] });
  const s = await fake.nextStream();
  const sub = await s.next();
  assert.equal(sub.request, 'subscribe');
  assert.equal(sub.subscribe.handler_name, 'test-handler');
  assert.equal(sub.subscribe.max_in_flight_messages, 7);
  assert.deepEqual(sub.subscribe.topics, ['t']);
  s.subscribed();
  s.send({ batch: { batch_id: '18446744073709551615', topic: 't', partition: 2, messages: [
    { offset: '41', key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'h', value: Buffer.from('x') }], timestamp_ms: '1700000000000', delivery_attempt: 3 },
    { offset: '42', timestamp_ms: '0', delivery_attempt: 1 },
  ] } });
  const settle = await s.nextOf('settle');
  assert.deepEqual(settle.settle.settlements.map((x) => [x.batch_id, x.outcome, x.offsets]),
    [['18446744073709551615', 'OUTCOME_ACK', []]]);
  assert.equal(seen.length, 2);
  assert.equal(seen[0].topic, 't');
  assert.equal(seen[0].partition, 2);
  assert.equal(seen[0].offset, 41);
  assert.equal(seen[0].key.toString(), 'k');
  assert.equal(seen[0].value.toString(), 'v');
  assert.equal(seen[0].headers[0].value.toString(), 'x');
  assert.equal(seen[0].timestampMs, 1700000000000);
  assert.equal(seen[0].deliveryAttempt, 3);
}));

test('null key and tombstone arrive as null, empty ones as empty Buffers', () => withSidecar(async (fake, make) => {
  const seen = [];
  make((m) => { seen.push(m); });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed();
  s.send({ batch: { batch_id: '1', topic: 't', partition: 0, messages: [
    { offset: '1', headers: [{ key: 'n' }], timestamp_ms: '0', delivery_attempt: 1 },
    { offset: '2', key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [{ key: 'e', value: Buffer.alloc(0) }], timestamp_ms: '0', delivery_attempt: 1 },
  ] } });
  await s.nextOf('settle');
  assert.equal(seen[0].key, null, 'absent key');
  assert.equal(seen[0].value, null, 'tombstone');
  assert.equal(seen[0].headers[0].value, null, 'absent header value');
  assert.ok(Buffer.isBuffer(seen[1].key) && seen[1].key.length === 0, 'empty key');
  assert.ok(Buffer.isBuffer(seen[1].value) && seen[1].value.length === 0, 'empty value');
  assert.ok(Buffer.isBuffer(seen[1].headers[0].value) && seen[1].headers[0].value.length === 0, 'empty header value');
}));

test('a naive handler that trips over a tombstone gets a RETRY, not a crashed helper', () => withSidecar(async (fake, make) => {
  const client = make((m) => { JSON.parse(m.value.toString()); });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed({ ordering: 'ORDERING_NONE' });
  s.send({ batch: { batch_id: '1', topic: 't', partition: 0, messages: [
    { offset: '1', timestamp_ms: '0', delivery_attempt: 1 },
    { offset: '2', value: Buffer.from('{}'), timestamp_ms: '0', delivery_attempt: 1 },
  ] } });
  const settle = await s.nextOf('settle');
  assert.deepEqual(rows(settle), [['OUTCOME_ACK', ['2']], ['OUTCOME_RETRY', ['1']]]);
  assert.match(settle.settle.settlements[1].reason, /null/);
  s.batch(2, 't', 0, [3]);
  assert.deepEqual(rows(await s.nextOf('settle')), [['OUTCOME_ACK', []]], 'still serving');
  assert.equal(client.counts.retried, 1);
}));

test('keeps offset order within a partition', () => withSidecar(async (fake, make) => {
  const order = [];
  make(async (m) => {
    // Later offsets finish sooner, so only the chain keeps them in order.
    await new Promise((r) => setTimeout(r, 10 - (m.offset % 10)));
    order.push(m.offset);
    return true;
  });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed();
  s.batch(1, 't', 0, [0, 1, 2]);
  s.batch(2, 't', 0, [3, 4, 5]);
  s.batch(3, 't', 0, [6, 7, 8, 9]);
  const ids = [];
  for (let i = 0; i < 3; ++i) ids.push((await s.nextOf('settle')).settle.settlements[0].batch_id);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(ids, ['1', '2', '3']);
}));

test('handles partitions concurrently', () => withSidecar(async (fake, make) => {
  const p1Started = gate();
  make(async (m) => {
    // Partition 0 cannot finish until partition 1 has started: handled one
    // partition after the other, this never settles.
    if (m.partition === 0) await p1Started.wait();
    else p1Started.open();
    return true;
  });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed();
  s.batch(1, 't', 0, [0]);
  s.batch(2, 't', 1, [0]);
  const first = await s.nextOf('settle');
  const second = await s.nextOf('settle');
  assert.deepEqual([first.settle.settlements[0].batch_id, second.settle.settlements[0].batch_id], ['2', '1']);
}));

test('reconnects after the stream drops and does not settle the old stream\'s batches on the new one', () => withSidecar(async (fake, make) => {
  const release = gate();
  let started = false;
  const client = make(async (m) => {
    if (m.offset === 0) {
      started = true;
      await release.wait();
    }
    return true;
  });
  const s1 = await fake.nextStream();
  await s1.next();
  s1.subscribed();
  s1.batch(1, 't', 0, [0, 1]);
  await waitFor(() => started, 5000, 'handler to start');
  s1.fail();

  const s2 = await fake.nextStream();
  assert.equal((await s2.next()).request, 'subscribe');
  assert.equal(client.counts.streams, 2);
  s2.subscribed();
  release.open();
  s2.batch(2, 't', 1, [0]);
  const settle = await s2.nextOf('settle');
  assert.deepEqual(settle.settle.settlements.map((x) => x.batch_id), ['2']);
  assert.equal(client.counts.processed, 1, 'the lost stream\'s batch is not counted');
}));

test('backs off exponentially while the sidecar keeps failing, up to the cap', () => withSidecar(async (fake, make) => {
  const client = make(() => true, { backoffInitialMs: 5, backoffMaxMs: 20 });
  for (let i = 0; i < 4; ++i) {
    const s = await fake.nextStream();
    await s.next();
    s.fail();
  }
  const s = await fake.nextStream();
  await s.next();
  assert.equal(client.backoffMs, 20, 'delay doubled 5 -> 10 -> 20 and stayed capped');
  s.subscribed();
  await waitFor(() => client.backoffMs === 5, 5000, 'backoff reset after Subscribed');
}));

test('on Draining finishes and settles held batches, half-closes and does not reconnect', () => withSidecar(async (fake, make) => {
  const release = gate();
  const client = make(async (m) => {
    if (m.offset === 0) await release.wait();
    return true;
  });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed();
  s.batch(1, 't', 0, [0, 1]);
  s.batch(2, 't', 1, [5]);
  s.send({ draining: { deadline_ms: 5000 } });
  s.batch(3, 't', 2, [9]);  // after Draining: not started
  release.open();
  const seen = [];
  await s.nextOf('half-close', 5000, seen);
  assert.deepEqual(seen.map((r) => r.settle.settlements[0].batch_id).sort(), ['1', '2']);
  const counts = await client.done;
  assert.equal(counts.processed, 3);
  assert.equal(counts.streams, 1);
  assert.equal(fake.streams.items.length, 0, 'no new stream after draining');
}));

test('stop() settles what it holds, takes no new batch and resolves done', () => withSidecar(async (fake, make) => {
  const release = gate();
  const handled = [];
  const client = make(async (m) => {
    handled.push(m.offset);
    if (m.offset === 0) await release.wait();
    return true;
  });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed();
  s.batch(1, 't', 0, [0]);
  await waitFor(() => handled.length === 1, 5000, 'handler to start');
  const done = client.stop();
  s.batch(2, 't', 0, [1]);
  release.open();
  const seen = [];
  await s.nextOf('half-close', 5000, seen);
  assert.deepEqual(seen.map((r) => r.settle.settlements[0].batch_id), ['1']);
  await done;
  assert.deepEqual(handled, [0]);
}));

test('SIGTERM stops like stop(), and the listeners go away with the client', () => withSidecar(async (fake, make, log) => {
  const before = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') };
  const release = gate();
  const client = make(async () => { await release.wait(); }, { handleSignals: true });
  assert.equal(process.listenerCount('SIGTERM'), before.term + 1);
  assert.equal(process.listenerCount('SIGINT'), before.int + 1);
  const s = await fake.nextStream();
  await s.next();
  s.subscribed();
  s.batch(1, 't', 0, [0]);
  await waitFor(() => client.call && client.call.state.held.size === 1, 5000, 'batch to be held');
  // Call the client's own listener: a real signal (or process.emit) would
  // also reach the test runner's.
  process.listeners('SIGTERM').at(-1)();
  assert.equal(client.stopping, true);
  release.open();
  const seen = [];
  await s.nextOf('half-close', 5000, seen);
  assert.deepEqual(seen.map(rows), [[['OUTCOME_ACK', []]]]);
  assert.equal((await client.done).processed, 1);
  assert.equal(process.listenerCount('SIGTERM'), before.term);
  assert.equal(process.listenerCount('SIGINT'), before.int);
  assert.ok(log.lines.includes('info SIGTERM: finishing held batches'), log.lines.join('\n'));
}));

test('handleSignals: false leaves the process\'s signals alone', () => withSidecar(async (fake, make) => {
  const before = process.listenerCount('SIGTERM');
  make(() => true, { handleSignals: false });
  await fake.nextStream();
  assert.equal(process.listenerCount('SIGTERM'), before);
}));

test('extends the deadline of batches it holds', () => withSidecar(async (fake, make) => {
  const release = gate();
  make(async () => { await release.wait(); return true; });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed({ ackTimeoutMs: 100 });
  s.batch(4, 't', 0, [0]);
  s.batch(5, 't', 0, [1]);
  const ext = await s.nextOf('extend');
  assert.deepEqual(ext.extend.batch_ids.sort(), ['4', '5']);
  release.open();
  assert.equal((await s.nextOf('settle')).settle.settlements[0].batch_id, '4');
}));

test('logs PartitionPaused in one line and ignores response kinds it does not know', () => withSidecar(async (fake, make, log) => {
  make((m) => { if (m.offset === 1) throw new Reject('bad'); });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed();
  s.paused('orders', 2, 'error threshold: 10 errors within 60000 ms', 30000);
  // A response whose kind is unknown decodes with no kind set.
  s.send({});
  s.batch(1, 't', 0, [0, 1]);
  assert.deepEqual(rows(await s.nextOf('settle')), [['OUTCOME_ACK', ['0']], ['OUTCOME_REJECT', ['1']]]);
  const paused = log.lines.filter((l) => l.includes('paused'));
  assert.deepEqual(paused, ['warn kafka-sidecar paused orders/2 for 30000 ms: error threshold: 10 errors within 60000 ms']);
}));

test('address and handler name default to SIDECAR_ADDRESS and HANDLER_NAME', () => {
  const env = { SIDECAR_ADDRESS: 'unix:/run/sidecar.sock', HANDLER_NAME: 'orders' };
  assert.equal(resolveOptions({}, env).address, 'unix:/run/sidecar.sock');
  assert.equal(resolveOptions({}, env).handlerName, 'orders');
  assert.equal(resolveOptions({}, {}).address, '127.0.0.1:50051');
  assert.equal(resolveOptions({}, {}).handlerName, 'nodejs-handler');
  assert.equal(resolveOptions({ address: 'h:1', handlerName: 'x' }, env).address, 'h:1', 'options win');
  assert.equal(resolveOptions({ address: 'h:1', handlerName: 'x' }, env).handlerName, 'x');
  assert.equal(resolveOptions({}, {}).handleSignals, true);
});
