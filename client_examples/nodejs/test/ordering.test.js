'use strict';
// What a RETRY does to the rest of a batch under each ordering the sidecar
// announces, retry delays, and how decisions are grouped into settlements.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Reject, Retry } = require('../lib/outcomes');
const { withSidecar } = require('./fake_sidecar');

const rows = (req) => req.settle.settlements.map((x) => [x.outcome, x.offsets, x.reason, x.retry_after_ms]);

// offset 0 ACK, 1 REJECT, 2 RETRY after 250 ms, 3 and 4 would ACK.
function mixedHandler(called) {
  return (m) => {
    called.push(m.offset);
    if (m.offset === 1) throw new Reject('not json');
    if (m.offset === 2) throw new Retry('database down', { afterMs: 250 });
  };
}

for (const ordering of ['ORDERING_PARTITION', 'ORDERING_UNSPECIFIED']) {
  test(`${ordering}: stops at the first RETRY and leaves the rest unsettled and unprocessed`, () => withSidecar(async (fake, make) => {
    const called = [];
    const client = make(mixedHandler(called));
    const s = await fake.nextStream();
    await s.next();
    s.subscribed({ ordering });
    s.batch(5, 't', 0, [0, 1, 2, 3, 4]);
    const a = await s.nextOf('settle');
    assert.deepEqual(rows(a), [
      ['OUTCOME_ACK', ['0'], '', 0],
      ['OUTCOME_REJECT', ['1'], 'not json', 0],
      ['OUTCOME_RETRY', ['2'], 'database down', 250],
    ]);
    assert.ok(a.settle.settlements.every((x) => x.batch_id === '5'));
    assert.deepEqual(called, [0, 1, 2], 'messages after a retry are not handled');
    // The partition's next batch still flows: nothing waits on the stopped one.
    s.batch(6, 't', 0, [3, 4]);
    assert.deepEqual(rows(await s.nextOf('settle')), [['OUTCOME_ACK', [], '', 0]]);
    assert.deepEqual(client.counts, { processed: 3, failed: 1, retried: 1, streams: 1 });
  }));
}

test('ORDERING_PARTITION: a retry on the first message settles only that message', () => withSidecar(async (fake, make) => {
  const called = [];
  make((m) => { called.push(m.offset); return m.offset !== 10; });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed({ ordering: 'ORDERING_PARTITION' });
  s.batch(6, 't', 1, [10, 11]);
  assert.deepEqual(rows(await s.nextOf('settle')), [['OUTCOME_RETRY', ['10'], 'handler returned false', 0]]);
  assert.deepEqual(called, [10]);
}));

test('ORDERING_NONE: every message is processed and settled on its own', () => withSidecar(async (fake, make) => {
  const called = [];
  const client = make(mixedHandler(called));
  const s = await fake.nextStream();
  await s.next();
  s.subscribed({ ordering: 'ORDERING_NONE' });
  s.batch(5, 't', 0, [0, 1, 2, 3, 4]);
  assert.deepEqual(rows(await s.nextOf('settle')), [
    ['OUTCOME_ACK', ['0', '3', '4'], '', 0],
    ['OUTCOME_REJECT', ['1'], 'not json', 0],
    ['OUTCOME_RETRY', ['2'], 'database down', 250],
  ]);
  assert.deepEqual(called, [0, 1, 2, 3, 4]);
  assert.deepEqual(client.counts, { processed: 3, failed: 1, retried: 1, streams: 1 });
}));

test('ORDERING_NONE: retries share a settlement only with the same reason and delay', () => withSidecar(async (fake, make) => {
  const client = make((m) => {
    switch (m.offset) {
      case 1: case 3: throw new Retry('busy', { afterMs: 100 });
      case 4: throw new Retry('busy', { afterMs: 200 });
      case 5: throw new Error('socket closed');
      case 6: return false;
      case 7: throw new Reject('bad');
      case 8: throw new Reject('bad');
      default: return true;
    }
  });
  const s = await fake.nextStream();
  await s.next();
  s.subscribed({ ordering: 'ORDERING_NONE' });
  s.batch(9, 't', 0, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(rows(await s.nextOf('settle')), [
    ['OUTCOME_ACK', ['0', '2'], '', 0],
    ['OUTCOME_REJECT', ['7', '8'], 'bad', 0],
    ['OUTCOME_RETRY', ['1', '3'], 'busy', 100],
    ['OUTCOME_RETRY', ['4'], 'busy', 200],
    ['OUTCOME_RETRY', ['5'], 'socket closed', 0],
    ['OUTCOME_RETRY', ['6'], 'handler returned false', 0],
  ]);
  assert.deepEqual(client.counts, { processed: 2, failed: 2, retried: 5, streams: 1 });
}));

test('the ordering is the stream\'s: a reconnect picks up what the new Subscribed says', () => withSidecar(async (fake, make) => {
  const called = [];
  make(mixedHandler(called));
  const s1 = await fake.nextStream();
  await s1.next();
  s1.subscribed({ ordering: 'ORDERING_NONE' });
  s1.fail();
  const s2 = await fake.nextStream();
  await s2.next();
  s2.subscribed({ ordering: 'ORDERING_PARTITION' });
  s2.batch(1, 't', 0, [0, 1, 2, 3]);
  assert.deepEqual((await s2.nextOf('settle')).settle.settlements.map((x) => x.outcome),
    ['OUTCOME_ACK', 'OUTCOME_REJECT', 'OUTCOME_RETRY']);
  assert.deepEqual(called, [0, 1, 2]);
}));

test('Retry carries its delay; a delay that is not a number >= 0 is refused', () => {
  assert.equal(new Retry('x').afterMs, 0);
  assert.equal(new Retry('x', { afterMs: 12.6 }).afterMs, 13);
  assert.equal(new Retry('x', { afterMs: 1e12 }).afterMs, 0xffffffff, 'capped to uint32');
  const cause = new Error('root');
  assert.equal(new Retry('x', { afterMs: 1, cause }).cause, cause);
  assert.ok(new Retry('x') instanceof Error);
  for (const bad of [-1, NaN, '50', null]) {
    assert.throws(() => new Retry('x', { afterMs: bad }), RangeError, String(bad));
  }
});
