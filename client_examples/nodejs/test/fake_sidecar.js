'use strict';
// An in-process ConsumerSidecar server the tests script by hand: each Consume
// stream is handed to the test, which reads the handler's requests in order
// and sends Subscribed / Batch / Draining as it likes.

const grpc = require('@grpc/grpc-js');
const { loadService } = require('../lib/sidecar_client');

// Resolves with the next item of an async FIFO, or rejects after timeoutMs.
class Queue {
  constructor() {
    this.items = [];
    this.waiters = [];
  }

  push(item) {
    const w = this.waiters.shift();
    if (w) w.resolve(item);
    else this.items.push(item);
  }

  next(timeoutMs = 5000, what = 'item') {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    return new Promise((resolve, reject) => {
      const waiter = { resolve: (v) => { clearTimeout(timer); resolve(v); } };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

class FakeStream {
  constructor(call) {
    this.call = call;
    this.requests = new Queue();
    this.halfClosed = false;
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
    call.on('data', (req) => this.requests.push(req));
    call.on('end', () => {
      this.halfClosed = true;
      this.requests.push({ request: 'half-close' });
      call.end();
      this.resolveClosed();
    });
    call.on('error', () => this.resolveClosed());
    call.on('cancelled', () => this.resolveClosed());
  }

  next(timeoutMs = 5000) {
    return this.requests.next(timeoutMs, 'request');
  }

  // Reads requests until one of the given kind, returning it; settles and
  // extends in between are returned through `seen` for assertions.
  async nextOf(kind, timeoutMs = 5000, seen = []) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const req = await this.next(Math.max(1, deadline - Date.now()));
      if (req.request === kind) return req;
      seen.push(req);
    }
  }

  send(resp) {
    this.call.write(resp);
  }

  subscribed(ackTimeoutMs = 30000) {
    this.send({ subscribed: { stream_id: 'stream-1', group_id: 'g', topics: ['t'], ack_timeout_ms: ackTimeoutMs } });
  }

  batch(batchId, topic, partition, offsets, value = (o) => Buffer.from(`{"n":${o}}`)) {
    this.send({
      batch: {
        batch_id: String(batchId),
        topic,
        partition,
        messages: offsets.map((o) => ({ offset: String(o), value: value(o), timestamp_ms: '0', delivery_attempt: 1 })),
      },
    });
  }

  // Ends the stream with an error, as a sidecar restart or network loss does.
  fail() {
    // grpc-js turns an 'error' event into the call's final status.
    this.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'fake sidecar dropped the stream' });
  }
}

class FakeSidecar {
  constructor() {
    this.streams = new Queue();
    this.server = new grpc.Server();
    const service = loadService();
    this.server.addService(service.ConsumerSidecar.service, {
      Consume: (call) => this.streams.push(new FakeStream(call)),
      GetStats: (_call, cb) => cb(null, {}),
      PausePartitions: (_call, cb) => cb(null, {}),
      ResumePartitions: (_call, cb) => cb(null, {}),
    });
  }

  start() {
    return new Promise((resolve, reject) => {
      // Port 0: the kernel picks a free port.
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) reject(err);
        else {
          this.address = `127.0.0.1:${port}`;
          resolve(this.address);
        }
      });
    });
  }

  nextStream(timeoutMs = 5000) {
    return this.streams.next(timeoutMs, 'Consume stream');
  }

  stop() {
    this.server.forceShutdown();
  }
}

// Waits for cond() to hold, polling; rejects at the deadline.
async function waitFor(cond, timeoutMs = 5000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

module.exports = { FakeSidecar, waitFor, Queue };
