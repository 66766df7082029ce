'use strict';
// What a handler's return or throw means for one message. Outcome names are
// the proto's enum names: settlements are written with them as they are.
//
//   return (anything but false)        -> ACK
//   throw new Reject(reason)           -> REJECT: given up, dead-lettered
//   throw new Retry(reason, {afterMs}) -> RETRY, redelivered after afterMs
//   return false / throw anything else -> RETRY after the sidecar's backoff

const ACK = 'OUTCOME_ACK';
const RETRY = 'OUTCOME_RETRY';
const REJECT = 'OUTCOME_REJECT';

// Settlement.retry_after_ms is a uint32.
const MAX_RETRY_AFTER_MS = 0xffffffff;

// For a message that can never succeed (bad input): retrying it would only
// fail again, so the sidecar dead-letters it instead.
class Reject extends Error {
  constructor(reason, options) {
    super(reason, options);
    this.name = 'Reject';
  }
}

// For a transient failure that should be tried again after a delay of the
// handler's choosing (afterMs 0 = the sidecar's own backoff).
class Retry extends Error {
  constructor(reason, { afterMs = 0, cause } = {}) {
    super(reason, cause === undefined ? undefined : { cause });
    if (typeof afterMs !== 'number' || !(afterMs >= 0)) {
      throw new RangeError(`Retry afterMs must be a number >= 0, got ${afterMs}`);
    }
    this.name = 'Retry';
    this.afterMs = Math.min(Math.round(afterMs), MAX_RETRY_AFTER_MS);
  }
}

function errorText(err) {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

// Runs the handler on one message and returns its decision:
// { outcome, reason, afterMs }.
async function decide(handler, message) {
  try {
    if ((await handler(message)) === false) {
      return { outcome: RETRY, reason: 'handler returned false', afterMs: 0 };
    }
    return { outcome: ACK, reason: '', afterMs: 0 };
  } catch (err) {
    if (err instanceof Reject) return { outcome: REJECT, reason: err.message, afterMs: 0 };
    if (err instanceof Retry) return { outcome: RETRY, reason: err.message, afterMs: err.afterMs };
    return { outcome: RETRY, reason: errorText(err), afterMs: 0 };
  }
}

module.exports = { ACK, RETRY, REJECT, Reject, Retry, decide };
