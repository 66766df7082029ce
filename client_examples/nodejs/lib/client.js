'use strict';
// The Consume stream loop: subscribe, hand batches to the handler, settle,
// extend ack deadlines, reconnect with backoff, stop cleanly.
//
// Batches of one partition are handled one after the other, in offset order,
// on a promise chain per partition; chains of different partitions run
// concurrently, so an async handler overlaps work across partitions. Each
// batch is settled with one Settle request.

const grpc = require('@grpc/grpc-js');
const { ACK, RETRY, REJECT } = require('./outcomes');
const { handleBatch, countOutcomes } = require('./batch');
const { loadService } = require('./proto');
const { resolveOptions } = require('./options');
const { onShutdownSignal } = require('./signals');

class SidecarClient {
  // options (all optional): address (gRPC target; default SIDECAR_ADDRESS,
  // then 127.0.0.1:50051), handlerName (default HANDLER_NAME, then
  // nodejs-handler), maxInFlightMessages, maxBatchMessages, topics,
  // credentials, protoPath, backoffInitialMs, backoffMaxMs, handleSignals
  // (default true), logger ({info, warn, error}; default stderr).
  constructor(options, handler) {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    this.options = resolveOptions(options);
    this.handler = handler;
    this.log = this.options.logger;
    const service = loadService(this.options.protoPath);
    this.client = new service.ConsumerSidecar(
      this.options.address, this.options.credentials || grpc.credentials.createInsecure());
    this.started = false;
    this.stopping = false;
    this.finished = false;
    this.call = null;
    this.reconnectTimer = null;
    this.removeSignalListeners = null;
    this.backoffMs = this.options.backoffInitialMs;
    // The sidecar's meanings: processed = settled ACK, failed = settled
    // REJECT, retried = settled RETRY by the handler. Messages left unsettled
    // (after a RETRY under partition ordering, or on a lost stream) count in
    // none of them.
    this.counts = { processed: 0, failed: 0, retried: 0, streams: 0 };
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
  }

  // Runs until stop(), the sidecar's Draining or (with handleSignals) SIGTERM
  // / SIGINT; resolves with the counts.
  start() {
    if (this.started) return this.done;
    this.started = true;
    if (this.options.handleSignals) {
      this.removeSignalListeners = onShutdownSignal((signal) => {
        this.log.info(`${signal}: finishing held batches`);
        this.stop();
      });
    }
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
    call.state = {
      chains: new Map(),   // "topic/partition" -> tail promise
      held: new Set(),     // batch ids received and not yet settled
      ordering: 'ORDERING_UNSPECIFIED',
      ended: false,
      closing: false,
      halfClosed: false,
      extendTimer: null,
    };
    this.call = call;
    this.counts.streams += 1;
    const o = this.options;
    call.write({
      subscribe: {
        handler_name: o.handlerName,
        max_in_flight_messages: o.maxInFlightMessages,
        max_in_flight_bytes: 0,
        max_batch_messages: o.maxBatchMessages,
        topics: o.topics,
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
        state.ordering = s.ordering;
        this.backoffMs = this.options.backoffInitialMs;
        this.log.info(`subscribed as ${s.stream_id} to group ${s.group_id} (${s.ordering})`);
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
      case 'paused': {
        // Informational: the sidecar resumes the partition by itself.
        const p = resp.paused;
        const tp = p.partition || {};
        this.log.warn(`kafka-sidecar paused ${tp.topic}/${tp.partition} for ${p.resume_in_ms} ms: ${p.reason}`);
        break;
      }
      case 'draining':
        this.log.info(`sidecar draining (deadline ${resp.draining.deadline_ms} ms)`);
        this.stopping = true;
        this.closeAfterHeld(call);
        break;
      default:
        // A kind newer than this helper: nothing it could act on.
        break;
    }
  }

  enqueue(call, batch) {
    const state = call.state;
    const key = `${batch.topic}/${batch.partition}`;
    state.held.add(batch.batch_id);
    const prev = state.chains.get(key) || Promise.resolve();
    const next = prev.then(async () => {
      const settlements = await handleBatch(batch, this.handler, {
        ordering: state.ordering,
        isCancelled: () => state.ended,
      });
      state.held.delete(batch.batch_id);
      if (settlements === null || state.ended) return;  // the sidecar redelivers it
      const n = countOutcomes(batch, settlements);
      this.counts.processed += n[ACK];
      this.counts.failed += n[REJECT];
      this.counts.retried += n[RETRY];
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
    this.backoffMs = Math.min(delay * 2, this.options.backoffMaxMs);
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
    if (this.removeSignalListeners) this.removeSignalListeners();
    this.client.close();
    this.resolveDone({ ...this.counts });
  }
}

// Runs a handler with options from the environment (see SidecarClient) until
// SIGTERM / SIGINT or the sidecar's Draining; resolves with the counts.
function run(handler, options = {}) {
  return new SidecarClient(options, handler).start();
}

module.exports = { SidecarClient, run };
