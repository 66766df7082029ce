'use strict';
// An in-process ConsumerSidecar server the tests script by hand: each Consume
// stream is handed to the test, which reads the handler's requests in order
// and sends Subscribed / Batch / PartitionPaused / Draining as it likes.

const grpc = require('@grpc/grpc-js');
const { loadService } = require('../lib/proto');

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

  // ordering: the proto's enum name; the sidecar's default is PARTITION.
  subscribed({ ackTimeoutMs = 30000, ordering = 'ORDERING_PARTITION' } = {}) {
    this.send({
      subscribed: { stream_id: 'stream-1', group_id: 'g', topics: ['t'], ack_timeout_ms: ackTimeoutMs, ordering },
    });
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

  paused(topic, partition, reason, resumeInMs) {
    this.send({ paused: { partition: { topic, partition }, reason, resume_in_ms: resumeInMs } });
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

// A logger that keeps its lines for assertions (and keeps test output quiet).
function captureLogger() {
  const lines = [];
  const at = (level) => (msg) => lines.push(`${level} ${msg}`);
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

// Runs fn(fake, make, log) against a fresh fake sidecar; make(handler, opts)
// starts a SidecarClient on it. Clients are torn down afterwards however the
// test ended. Signal handling is off unless a test asks for it: the test
// runner's own process must keep its signals.
async function withSidecar(fn) {
  const { SidecarClient } = require('../lib/client');
  const fake = new FakeSidecar();
  const address = await fake.start();
  const log = captureLogger();
  const clients = [];
  const make = (handler, opts = {}) => {
    const c = new SidecarClient({
      address, handlerName: 'test-handler', backoffInitialMs: 10, handleSignals: false, logger: log, ...opts,
    }, handler);
    clients.push(c);
    c.start();
    return c;
  };
  try {
    await fn(fake, make, log);
  } finally {
    for (const c of clients) {
      c.stopping = true;
      if (c.call) c.call.cancel();
      c.finish();
    }
    fake.stop();
  }
}

module.exports = { FakeSidecar, waitFor, Queue, captureLogger, withSidecar };
