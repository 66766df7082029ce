'use strict';
// Example kafka-sidecar handler: each message is UTF-8 JSON; "processing" is a
// small digest of it (sum of its numeric fields, count of its fields). A
// message that is not UTF-8 JSON is rejected with the parse error as the
// reason, so the sidecar dead-letters it instead of retrying it forever.
//
//   SIDECAR_ADDRESS=127.0.0.1:50051 HANDLER_NAME=orders node example_handler.js
//
// Runs until SIGTERM/SIGINT or the sidecar's Draining, then settles what it
// holds and exits 0.

const { SidecarClient, Reject } = require('./lib/sidecar_client');

const utf8 = new TextDecoder('utf-8', { fatal: true });

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

// The handler: true = ACK; a thrown Reject = REJECT; any other throw = RETRY.
function handleMessage(message) {
  if (message.value === null) return true;  // tombstone: nothing to process
  let data;
  try {
    data = JSON.parse(utf8.decode(message.value));
  } catch (err) {
    throw new Reject(`${message.topic}/${message.partition}@${message.offset}: ${err.message}`);
  }
  const d = digest(data);
  totals.messages += 1;
  totals.sum += d.sum;
  return true;
}

function logger() {
  const line = (level) => (msg) => process.stderr.write(`${new Date().toISOString()} ${level} ${msg}\n`);
  return { info: line('info'), warn: line('warn'), error: line('error') };
}

async function main() {
  const address = process.env.SIDECAR_ADDRESS || '127.0.0.1:50051';
  const handlerName = process.env.HANDLER_NAME || 'nodejs-example';
  const log = logger();
  const client = new SidecarClient({ address, handlerName, logger: log }, handleMessage);
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      log.info(`${sig}: finishing held batches`);
      client.stop();
    });
  }
  const progress = setInterval(() => {
    log.info(`processed ${totals.messages} messages (sum ${totals.sum})`);
  }, 2000);
  progress.unref();
  log.info(`connecting to ${address} as ${handlerName}`);
  const counts = await client.start();
  log.info(`done: acked ${counts.acked}, rejected ${counts.rejected}, retried ${counts.retried}`);
  process.exit(0);
}

if (require.main === module) main();

module.exports = { handleMessage, digest };
