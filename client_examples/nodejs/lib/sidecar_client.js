'use strict';
// A reusable kafka-sidecar handler loop for Node.js.
//
//   const { SidecarClient, Reject } = require('./lib/sidecar_client');
//   const client = new SidecarClient({ address: '127.0.0.1:50051' }, async (message) => {
//     ...            // return true = ACK, false = RETRY
//     throw new Reject('why');   // poison message: REJECT (dead-lettered)
//   });
//   client.start();
//   process.on('SIGTERM', () => client.stop());
//   await client.done;
//
// Batches of one partition are handled one after the other, in offset order,
// on a promise chain per partition; chains of different partitions run
// concurrently, so an async handler overlaps work across partitions.
// Each batch is settled with one Settle request.

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const DEFAULT_PROTO = path.resolve(__dirname, '../../../proto/kafka_sidecar/v1/sidecar.proto');

// A handler throws this for a message that can never succeed (bad input):
// it is settled REJECT, which sends it to the dead-letter topic if one is set.
class Reject extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'Reject';
  }
}

function loadService(protoPath = DEFAULT_PROTO) {
  const definition = protoLoader.loadSync(protoPath, {
    // uint64 batch ids must survive the round trip exactly; Numbers would not.
    longs: String,
    enums: String,
    bytes: Buffer,
    defaults: true,
    oneofs: true,
    keepCase: true,
  });
  return grpc.loadPackageDefinition(definition).kafka_sidecar.v1;
}

function toMessage(batch, m) {
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: Number(m.offset),
    key: m.key === undefined || m.key === null ? null : m.key,
    value: m.value === undefined || m.value === null ? null : m.value,
    headers: (m.headers || []).map((h) => ({ key: h.key, value: h.value ?? null })),
    timestampMs: Number(m.timestamp_ms),
    deliveryAttempt: m.delivery_attempt,
  };
}

// Runs the handler over one batch in order and returns the settlements that
// answer it. The first RETRY stops the batch: with ordering by partition the
// sidecar rewinds to that offset, so handling later messages would only be
// done again; they are handed back in their own settlement, which the rewind
// makes stale (no extra error counted) and which with `ordering: none`
// sends them back at once instead of waiting for the ack timeout.
async function handleBatch(batch, handler, isCancelled) {
  const acked = [];
  const rejected = [];
  const settlements = [];
  const msgs = batch.messages || [];
  for (let i = 0; i < msgs.length; ++i) {
    if (isCancelled()) return null;
    let outcome;
    let reason = '';
    try {
      outcome = (await handler(toMessage(batch, msgs[i]))) === false ? 'retry' : 'ack';
    } catch (err) {
      if (err instanceof Reject) {
        rejected.push({ offset: msgs[i].offset, reason: err.message });
        continue;
      }
      outcome = 'retry';
      reason = err && err.message ? err.message : String(err);
    }
    if (outcome === 'ack') {
      acked.push(msgs[i].offset);
      continue;
    }
    if (acked.length > 0) settlements.push(settlement(batch, 'OUTCOME_ACK', acked));
    for (const r of rejected) settlements.push(settlement(batch, 'OUTCOME_REJECT', [r.offset], r.reason));
    settlements.push(settlement(batch, 'OUTCOME_RETRY', [msgs[i].offset], reason || 'handler returned false'));
    const rest = msgs.slice(i + 1).map((m) => m.offset);
    if (rest.length > 0) settlements.push(settlement(batch, 'OUTCOME_RETRY', rest, 'an earlier message of the batch is retried'));
    return settlements;
  }
  if (rejected.length === 0) return [settlement(batch, 'OUTCOME_ACK', [])];  // the whole batch
  if (acked.length > 0) settlements.push(settlement(batch, 'OUTCOME_ACK', acked));
  for (const r of rejected) settlements.push(settlement(batch, 'OUTCOME_REJECT', [r.offset], r.reason));
  return settlements;
}

function settlement(batch, outcome, offsets, reason = '') {
  return { batch_id: batch.batch_id, offsets, outcome, retry_after_ms: 0, reason };
}

const noopLogger = { info() {}, warn() {}, error() {} };

class SidecarClient {
  // options: address (gRPC target), handlerName, maxInFlightMessages,
  // maxBatchMessages, topics, credentials, protoPath, backoffInitialMs,
  // backoffMaxMs, logger ({info, warn, error}).
  constructor(options, handler) {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    if (!options || !options.address) throw new TypeError('options.address is required');
    this.options = options;
    this.handler = handler;
    this.log = options.logger || noopLogger;
    const service = loadService(options.protoPath);
    this.client = new service.ConsumerSidecar(
      options.address, options.credentials || grpc.credentials.createInsecure());
    this.stopping = false;
    this.finished = false;
    this.call = null;
    this.reconnectTimer = null;
    this.backoffMs = options.backoffInitialMs ?? 100;
    this.counts = { acked: 0, retried: 0, rejected: 0, streams: 0 };
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
  }

  start() {
    this.connect();
    return this.done;
  }

  // Stops taking new batches, finishes and settles those already received,
  // closes the stream and resolves `done`.
  stop() {
    if (this.stopping) return this.done;
    this.stopping = true;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      this.finish();
    } else if (this.call) {
      this.closeAfterHeld(this.call);
    } else {
      this.finish();
    }
    return this.done;
  }

  connect() {
    const call = this.client.Consume();
    const state = {
      chains: new Map(),   // "topic/partition" -> tail promise
      held: new Set(),     // batch ids received and not yet settled
      ended: false,
      subscribed: false,
      closing: false,
      halfClosed: false,
      extendTimer: null,
    };
    call.state = state;
    this.call = call;
    this.counts.streams += 1;
    call.write({
      subscribe: {
        handler_name: this.options.handlerName || 'nodejs-handler',
        max_in_flight_messages: this.options.maxInFlightMessages || 0,
        max_in_flight_bytes: 0,
        max_batch_messages: this.options.maxBatchMessages || 0,
        topics: this.options.topics || [],
      },
    });
    call.on('data', (resp) => this.onResponse(call, resp));
    // 'error' carries the status of a failed call; 'status' always follows.
    call.on('error', () => {});
    call.on('status', (status) => this.onStreamEnd(call, status));
  }

  onResponse(call, resp) {
    const state = call.state;
    switch (resp.response) {
      case 'subscribed': {
        const s = resp.subscribed;
        state.subscribed = true;
        this.backoffMs = this.options.backoffInitialMs ?? 100;
        this.log.info(`subscribed as ${s.stream_id} to group ${s.group_id}`);
        this.startExtending(call, s.ack_timeout_ms);
        break;
      }
      case 'batch':
        // After stop()/Draining nothing new is started; what is not settled
        // goes back to the sidecar when the stream closes.
        if (!state.closing) this.enqueue(call, resp.batch);
        break;
      case 'assignment': {
        const fmt = (tps) => tps.map((tp) => `${tp.topic}/${tp.partition}`).join(',');
        this.log.info(`assignment: +[${fmt(resp.assignment.assigned)}] -[${fmt(resp.assignment.revoked)}]`);
        break;
      }
      case 'draining':
        this.log.info(`sidecar draining (deadline ${resp.draining.deadline_ms} ms)`);
        this.stopping = true;
        this.closeAfterHeld(call);
        break;
      default:
        break;
    }
  }

  enqueue(call, batch) {
    const state = call.state;
    const key = `${batch.topic}/${batch.partition}`;
    state.held.add(batch.batch_id);
    const prev = state.chains.get(key) || Promise.resolve();
    const next = prev.then(async () => {
      const settlements = await handleBatch(batch, this.handler, () => state.ended);
      state.held.delete(batch.batch_id);
      if (settlements === null || state.ended) return;  // the sidecar redelivers it
      for (const s of settlements) {
        const n = s.offsets.length || (batch.messages || []).length;
        if (s.outcome === 'OUTCOME_ACK') this.counts.acked += n;
        else if (s.outcome === 'OUTCOME_REJECT') this.counts.rejected += n;
        else this.counts.retried += n;
      }
      call.write({ settle: { settlements } });
    }).catch((err) => this.log.error(`batch ${batch.batch_id}: ${err && err.stack}`));
    state.chains.set(key, next);
    // Drop the map entry once the partition is idle so it does not grow.
    next.then(() => { if (state.chains.get(key) === next) state.chains.delete(key); });
  }

  // Long handlers would otherwise let the ack deadline pass while a batch
  // waits behind earlier ones of its partition.
  startExtending(call, ackTimeoutMs) {
    if (!ackTimeoutMs) return;
    const every = Math.max(50, Math.floor(ackTimeoutMs / 2));
    call.state.extendTimer = setInterval(() => {
      if (call.state.ended || call.state.halfClosed || call.state.held.size === 0) return;
      call.write({ extend: { batch_ids: [...call.state.held], extend_ms: 0 } });
    }, every);
    call.state.extendTimer.unref();
  }

  async closeAfterHeld(call) {
    const state = call.state;
    if (state.closing) return;
    state.closing = true;
    // Chains may grow while we wait only until `closing` is set, so one pass
    // over the current tails covers everything held.
    await Promise.all([...state.chains.values()]);
    state.halfClosed = true;
    if (!state.ended) call.end();
    // The sidecar ends the stream after our half-close; do not wait forever.
    const t = setTimeout(() => { if (!state.ended) call.cancel(); }, 5000);
    t.unref();
  }

  onStreamEnd(call, status) {
    const state = call.state;
    state.ended = true;
    if (state.extendTimer) clearInterval(state.extendTimer);
    if (this.call === call) this.call = null;
    if (this.stopping) {
      this.finish();
      return;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(delay * 2, this.options.backoffMaxMs ?? 5000);
    this.log.warn(`stream ended (${status.code} ${status.details}); reconnecting in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopping) this.finish();
      else this.connect();
    }, delay);
  }

  finish() {
    if (this.finished) return;
    this.finished = true;
    this.client.close();
    this.resolveDone({ ...this.counts });
  }
}

module.exports = { SidecarClient, Reject, loadService, handleBatch, DEFAULT_PROTO };
