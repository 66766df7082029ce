'use strict';
// Example kafka-sidecar handler: each message is UTF-8 JSON; "processing" is a
// small digest of it (sum of its numeric fields, count of its fields).
// - not UTF-8 JSON: REJECT with the parse error as the reason, so the sidecar
//   dead-letters it instead of retrying it forever;
// - a JSON object with "fail_once": true on its first delivery: a transient
//   failure, RETRY after 50 ms; processed normally when delivered again;
// - a tombstone: nothing to process, ACK.
//
//   SIDECAR_ADDRESS=127.0.0.1:50051 HANDLER_NAME=orders node example_handler.js
//
// Runs until SIGTERM/SIGINT or the sidecar's Draining, then settles what it
// holds and exits 0 (the helper handles the signals).

const { run, Reject, Retry } = require('@kafka-sidecar/client');

const utf8 = new TextDecoder('utf-8', { fatal: true });

const FAIL_ONCE_RETRY_MS = 50;

// Sum of the numeric leaves and count of all leaves of a JSON value.
function digest(value) {
  if (typeof value === 'number') return { sum: value, fields: 1 };
  if (value === null || typeof value !== 'object') return { sum: 0, fields: 1 };
  let sum = 0;
  let fields = 0;
  for (const v of Object.values(value)) {
    const d = digest(v);
    sum += d.sum;
    fields += d.fields;
  }
  return { sum, fields };
}

const totals = { messages: 0, sum: 0 };

// Returning = ACK; a thrown Reject = REJECT; a thrown Retry = RETRY.
function handleMessage(message) {
  if (message.value === null) return true;
  let data;
  try {
    data = JSON.parse(utf8.decode(message.value));
  } catch (err) {
    throw new Reject(`${message.topic}/${message.partition}@${message.offset}: ${err.message}`);
  }
  // delivery_attempt is 1 on first delivery (0 from a sidecar that does not count).
  if (data !== null && typeof data === 'object' && data.fail_once === true && message.deliveryAttempt <= 1) {
    throw new Retry('transient failure (fail_once)', { afterMs: FAIL_ONCE_RETRY_MS });
  }
  const d = digest(data);
  totals.messages += 1;
  totals.sum += d.sum;
  return true;
}

// The same line format as the helper's own log.
function log(msg) {
  process.stderr.write(`${new Date().toISOString()} info ${msg}\n`);
}

async function main() {
  const handlerName = process.env.HANDLER_NAME || 'nodejs-example';
  const progress = setInterval(() => log(`processed ${totals.messages} messages (sum ${totals.sum})`), 2000);
  progress.unref();
  const counts = await run(handleMessage, { handlerName });
  log(`done: processed ${counts.processed}, failed ${counts.failed}, retried ${counts.retried}`);
}

if (require.main === module) main();

module.exports = { handleMessage, digest };
