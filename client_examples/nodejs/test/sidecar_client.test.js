'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { SidecarClient, Reject } = require('../lib/sidecar_client');
const { FakeSidecar, waitFor } = require('./fake_sidecar');

function gate() {
  let open;
  const p = new Promise((r) => { open = r; });
  return { wait: () => p, open: () => open() };
}

async function withSidecar(fn) {
  const fake = new FakeSidecar();
  const address = await fake.start();
  const clients = [];
  const make = (handler, opts = {}) => {
    const c = new SidecarClient({ address, handlerName: 'test-handler', backoffInitialMs: 10, ...opts }, handler);
    clients.push(c);
    c.start();
    return c;
  };
  try {
    await fn(fake, make);
  } finally {
    for (const c of clients) {
      c.stopping = true;
      if (c.call) c.call.cancel();
      c.finish();
    }
    fake.stop();
  }
}

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
  assert.equal(seen[1].key, null, 'absent key is null');
  assert.equal(seen[1].value, null, 'tombstone is null');
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

test('maps false, errors and Reject to RETRY and REJECT, stopping the batch at the first retry', () => withSidecar(async (fake, make) => {
  const called = [];
  make((m) => {
    called.push(m.offset);
    if (m.offset === 1) throw new Reject('not json');
    if (m.offset === 2) throw new Error('database down');
    if (m.offset === 11) return false;
    return true;
  });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed();
  s.batch(5, 't', 0, [0, 1, 2, 3, 4]);
  const a = await s.nextOf('settle');
  assert.deepEqual(a.settle.settlements.map((x) => [x.outcome, x.offsets, x.reason]), [
    ['OUTCOME_ACK', ['0'], ''],
    ['OUTCOME_REJECT', ['1'], 'not json'],
    ['OUTCOME_RETRY', ['2'], 'database down'],
    ['OUTCOME_RETRY', ['3', '4'], 'an earlier message of the batch is retried'],
  ]);
  assert.ok(a.settle.settlements.every((x) => x.batch_id === '5'));
  assert.deepEqual(called, [0, 1, 2], 'messages after a retry are not handled');

  s.batch(6, 't', 1, [10, 11]);
  const b = await s.nextOf('settle');
  assert.deepEqual(b.settle.settlements.map((x) => [x.outcome, x.offsets, x.reason]), [
    ['OUTCOME_ACK', ['10'], ''],
    ['OUTCOME_RETRY', ['11'], 'handler returned false'],
  ]);

  s.batch(7, 't', 2, [1, 20]);
  const c = await s.nextOf('settle');
  assert.deepEqual(c.settle.settlements.map((x) => [x.outcome, x.offsets]), [
    ['OUTCOME_ACK', ['20']],
    ['OUTCOME_REJECT', ['1']],
  ]);
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
  assert.equal(counts.acked, 3);
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

test('extends the deadline of batches it holds', () => withSidecar(async (fake, make) => {
  const release = gate();
  make(async () => { await release.wait(); return true; });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed(100);
  s.batch(4, 't', 0, [0]);
  s.batch(5, 't', 0, [1]);
  const ext = await s.nextOf('extend');
  assert.deepEqual(ext.extend.batch_ids.sort(), ['4', '5']);
  release.open();
  assert.equal((await s.nextOf('settle')).settle.settlements[0].batch_id, '4');
}));
