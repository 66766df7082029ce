'use strict';
// Runs the handler over one batch and turns its decisions into settlements.
//
// What a RETRY means for the rest of the batch depends on the stream's
// ordering (Subscribed.ordering):
// - PARTITION (and UNSPECIFIED, an older sidecar): the sidecar rewinds the
//   partition to the retried message and delivers everything after it again.
//   Processing later messages now would only be done twice, and settling them
//   would be stale, so the batch stops at the first RETRY and the rest stays
//   unsettled.
// - NONE: a RETRY redelivers only that message, so every message is processed
//   and settled on its own; settling the rest RETRY too would turn one
//   transient failure into a retry (and an error) per message.

const { ACK, RETRY, REJECT, decide } = require('./outcomes');
const { toMessage } = require('./message');

const ORDERING_NONE = 'ORDERING_NONE';

// ACKs first and the RETRY last, so the sidecar sees a batch's progress
// before the message it has to redeliver.
const RANK = { [ACK]: 0, [REJECT]: 1, [RETRY]: 2 };

function settlement(batchId, outcome, offsets, reason, afterMs) {
  return { batch_id: batchId, offsets, outcome, retry_after_ms: afterMs, reason };
}

// One settlement per distinct (outcome, reason, retry delay): a Settlement
// carries one reason and one retry_after_ms for all its offsets.
function toSettlements(batch, decided) {
  const all = batch.messages || [];
  if (decided.length === all.length && decided.every((d) => d.outcome === ACK)) {
    return [settlement(batch.batch_id, ACK, [], '', 0)];  // empty offsets = the whole batch
  }
  const groups = new Map();
  for (const d of decided) {
    const key = `${d.outcome}\u0000${d.afterMs}\u0000${d.reason}`;
    let s = groups.get(key);
    if (!s) {
      s = settlement(batch.batch_id, d.outcome, [], d.reason, d.afterMs);
      groups.set(key, s);
    }
    s.offsets.push(d.offset);
  }
  return [...groups.values()].sort((a, b) => RANK[a.outcome] - RANK[b.outcome]);
}

// Returns the settlements that answer the batch, or null when isCancelled()
// turned true on the way (its stream is gone; the sidecar redelivers it).
async function handleBatch(batch, handler, { ordering, isCancelled = () => false } = {}) {
  const stopAtRetry = ordering !== ORDERING_NONE;
  const decided = [];
  for (const m of batch.messages || []) {
    if (isCancelled()) return null;
    const d = await decide(handler, toMessage(batch, m));
    decided.push({ offset: m.offset, ...d });
    if (d.outcome === RETRY && stopAtRetry) break;
  }
  return toSettlements(batch, decided);
}

// Messages per outcome in settlements of one batch.
function countOutcomes(batch, settlements) {
  const n = { [ACK]: 0, [REJECT]: 0, [RETRY]: 0 };
  for (const s of settlements) {
    n[s.outcome] += s.offsets.length || (batch.messages || []).length;
  }
  return n;
}

module.exports = { handleBatch, countOutcomes, ORDERING_NONE };
