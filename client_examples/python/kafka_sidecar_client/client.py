"""A kafka-sidecar handler client built on the ConsumerSidecar.Consume stream.

Delivery rules the helper keeps:

* Each partition has its own worker thread, so partitions are processed
  concurrently while the messages of one partition are handled one at a
  time, in the order the sidecar sent them.
* The user's ``handler(message)`` decides each message: ``True`` = ACK,
  ``False`` = RETRY, raising ``Reject`` = REJECT (dead letter, no retry), any
  other exception = RETRY with the exception as the reason.
* A batch is settled with one Settle request once all its messages were
  handled. ACKs come first in it, so a RETRY that rewinds the partition
  (``ordering: partition``) skips what this batch already acknowledged.
* When the stream drops, work of that stream is abandoned (its batch ids mean
  nothing to a new stream; the sidecar redelivers what was not settled), the
  workers are joined, and the client reconnects with exponential backoff.
* On ``Draining`` (the sidecar shuts down) and on ``stop()`` (e.g. SIGTERM)
  the client settles every batch it holds, closes the stream and ``run()``
  returns. After ``stop()`` batches that arrive are not started: the sidecar
  gets them back when the stream closes.
* A batch held (being handled, or queued behind a slow one of its partition)
  for half the sidecar's ``ack_timeout_ms`` is extended by another ack
  timeout, so a slow handler is not redelivered what it is still working on.
"""
from __future__ import annotations

import logging
import queue
import random
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import grpc

from ._stubs import pb, pb_grpc

log = logging.getLogger("kafka_sidecar_client")

ACK = pb.OUTCOME_ACK
RETRY = pb.OUTCOME_RETRY
REJECT = pb.OUTCOME_REJECT

# Reasons travel in a dead-letter header and in logs; a traceback-sized one
# helps nobody there.
_MAX_REASON = 1000


class Reject(Exception):
    """Raised by a handler for a message that can never succeed (poison): the
    sidecar gives it up at once (dead-letter topic, if configured) instead of
    retrying it. The exception's text is the reason."""


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: Optional[bytes]  # None = null key
    value: Optional[bytes]  # None = tombstone
    headers: List[Tuple[str, Optional[bytes]]]
    timestamp_ms: int
    delivery_attempt: int  # 1 on first delivery


Handler = Callable[[Message], bool]


def _to_message(batch, m) -> Message:
    return Message(
        topic=batch.topic,
        partition=batch.partition,
        offset=m.offset,
        key=m.key if m.HasField("key") else None,
        value=m.value if m.HasField("value") else None,
        headers=[(h.key, h.value if h.HasField("value") else None) for h in m.headers],
        timestamp_ms=m.timestamp_ms,
        delivery_attempt=m.delivery_attempt,
    )


def decide(handler: Handler, message: Message) -> Tuple[int, str]:
    """The outcome and reason for one message."""
    try:
        ok = handler(message)
    except Reject as e:
        return REJECT, (str(e) or "rejected")[:_MAX_REASON]
    except Exception as e:  # noqa: BLE001 - any handler error is a retry
        return RETRY, f"{type(e).__name__}: {e}"[:_MAX_REASON]
    return (ACK, "") if ok else (RETRY, "handler returned false")


def settle_request(batch_id: int, outcomes: Sequence[Tuple[int, int, str]]):
    """One Settle for a batch from (offset, outcome, reason) triples."""
    settle = pb.Settle()
    acks = [offset for offset, outcome, _ in outcomes if outcome == ACK]
    if len(acks) == len(outcomes):
        # Empty offsets = every unsettled message of the batch.
        settle.settlements.add(batch_id=batch_id, outcome=ACK)
    else:
        if acks:
            settle.settlements.add(batch_id=batch_id, offsets=acks, outcome=ACK)
        for offset, outcome, reason in outcomes:
            if outcome != ACK:
                settle.settlements.add(
                    batch_id=batch_id, offsets=[offset], outcome=outcome, reason=reason)
    return pb.ConsumeRequest(settle=settle)


@dataclass
class Options:
    handler_name: str = "python-handler"
    topics: Sequence[str] = ()
    max_in_flight_messages: int = 0  # 0 = the sidecar's default
    max_batch_messages: int = 0
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 10.0
    # How long stop() waits for held batches before closing the stream anyway.
    stop_timeout_s: float = 20.0


class _Outstanding:
    """Batches dispatched and not yet settled (or abandoned)."""

    def __init__(self):
        self._cv = threading.Condition()
        self._n = 0

    def add(self):
        with self._cv:
            self._n += 1

    def done(self):
        with self._cv:
            self._n -= 1
            if self._n == 0:
                self._cv.notify_all()

    def wait_zero(self, timeout: float) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: self._n == 0, timeout=max(0.0, timeout))


class _PartitionWorker:
    def __init__(self, stream: "_Stream", key: Tuple[str, int]):
        self._stream = stream
        self._queue: "queue.Queue" = queue.Queue()
        self._thread = threading.Thread(
            target=self._run, name=f"partition-{key[0]}-{key[1]}", daemon=True)
        self._thread.start()

    def submit(self, batch):
        self._queue.put(batch)

    def close(self):
        self._queue.put(None)

    def join(self):
        self._thread.join()

    def _run(self):
        s = self._stream
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            try:
                outcomes = []
                for m in batch.messages:
                    if s.abandoned:
                        break
                    outcome, reason = decide(s.handler, _to_message(batch, m))
                    outcomes.append((m.offset, outcome, reason))
                if not s.abandoned and outcomes:
                    # Counted before the send: whoever sees the Settle may read stats.
                    s.record(outcomes)
                    s.send(settle_request(batch.batch_id, outcomes))
            finally:
                s.release(batch.batch_id)


class _Stream:
    """One Consume stream and its partition workers."""

    def __init__(self, stub, handler: Handler, options: Options, stats: "Stats"):
        self._stub = stub
        self.handler = handler
        self._options = options
        self._stats = stats
        self._requests: "queue.Queue" = queue.Queue()
        self._lock = threading.Lock()
        self._writes_closed = False
        self._finish_reason: Optional[str] = None
        self._call = None
        self._ended = threading.Event()
        self._workers: Dict[Tuple[str, int], _PartitionWorker] = {}
        # Batch id -> when it was sent or last extended; guarded by _lock.
        self._held: Dict[int, float] = {}
        self._extender: Optional[threading.Thread] = None
        self.outstanding = _Outstanding()
        self.abandoned = False
        self.subscribed = None

    # --- writes (any thread) ---

    def _request_iterator(self):
        o = self._options
        yield pb.ConsumeRequest(subscribe=pb.Subscribe(
            handler_name=o.handler_name, topics=list(o.topics),
            max_in_flight_messages=o.max_in_flight_messages,
            max_batch_messages=o.max_batch_messages))
        while True:
            request = self._requests.get()
            if request is None:
                return
            yield request

    def send(self, request):
        with self._lock:
            if not self._writes_closed:
                self._requests.put(request)

    def _close_writes(self):
        with self._lock:
            if not self._writes_closed:
                self._writes_closed = True
                self._requests.put(None)

    def record(self, outcomes):
        self._stats.add(outcomes)

    def release(self, batch_id: int):
        """A dispatched batch was settled or abandoned."""
        with self._lock:
            self._held.pop(batch_id, None)
        self.outstanding.done()

    # --- extending held batches ---

    def _start_extender(self, ack_timeout_ms: int):
        if ack_timeout_ms <= 0 or self._extender is not None:
            return
        self._extender = threading.Thread(
            target=self._run_extender, args=(ack_timeout_ms / 1000.0,),
            name="sidecar-extender", daemon=True)
        self._extender.start()

    def _run_extender(self, ack_timeout_s: float):
        # Half the ack timeout leaves the other half for the Extend to arrive.
        half = ack_timeout_s / 2
        period = max(ack_timeout_s / 4, 0.02)
        while not self._ended.wait(period):
            now = time.monotonic()
            with self._lock:
                if self._writes_closed:
                    return
                due = sorted(i for i, since in self._held.items() if now - since >= half)
                for batch_id in due:
                    self._held[batch_id] = now
            if due:
                # extend_ms 0 = another ack_timeout_ms from now. send() drops
                # it if writes closed meanwhile.
                self.send(pb.ConsumeRequest(extend=pb.Extend(batch_ids=due)))

    # --- ending ---

    def finish(self, reason: str, timeout_s: float):
        """Settle what is held, then close the stream. From any thread."""
        with self._lock:
            if self._finish_reason is not None:
                return
            self._finish_reason = reason
        threading.Thread(target=self._finish, args=(timeout_s,), daemon=True).start()

    def _finish(self, timeout_s: float):
        deadline = time.monotonic() + timeout_s
        if not self.outstanding.wait_zero(deadline - time.monotonic()):
            log.warning("closing the stream with batches still unsettled after %.1fs", timeout_s)
        self._close_writes()
        # The sidecar ends the stream once the handler half-closes; a grace
        # period, then cancel, so a stuck peer cannot keep us forever.
        if not self._ended.wait(max(1.0, deadline - time.monotonic()) + 5.0):
            with self._lock:
                call = self._call
            if call is not None:
                call.cancel()

    # --- reading (the client's thread) ---

    def run(self) -> str:
        """'drained', 'stopped' or 'dropped'."""
        call = self._stub.Consume(self._request_iterator())
        with self._lock:
            self._call = call
        try:
            for response in call:
                kind = response.WhichOneof("response")
                if kind == "batch":
                    self._dispatch(response.batch)
                elif kind == "subscribed":
                    self.subscribed = response.subscribed
                    log.info("subscribed: stream %s, group %s, topics %s, ack timeout %d ms",
                             self.subscribed.stream_id, self.subscribed.group_id,
                             list(self.subscribed.topics), self.subscribed.ack_timeout_ms)
                    self._start_extender(self.subscribed.ack_timeout_ms)
                elif kind == "assignment":
                    log.info("assignment: +%d -%d partitions",
                             len(response.assignment.assigned), len(response.assignment.revoked))
                elif kind == "draining":
                    deadline_s = response.draining.deadline_ms / 1000.0
                    log.info("sidecar draining, %.1fs to settle", deadline_s)
                    # Leave a margin so the settlements land before the deadline.
                    self.finish("drained", deadline_s * 0.8 if deadline_s > 0 else 5.0)
            if self._finish_reason is None:
                log.warning("stream ended by the sidecar")
        except grpc.RpcError as e:
            if self._finish_reason is None:
                log.warning("stream dropped: %s %s", e.code(), e.details())
        finally:
            # Abandoned before ended: a worker must not handle the rest of a
            # dead stream's batch once anyone can see the stream ended.
            self.abandoned = True
            self._ended.set()
            self._close_writes()
            if self._extender is not None:
                self._extender.join()
            for w in self._workers.values():
                w.close()
            for w in self._workers.values():
                w.join()
        return self._finish_reason or "dropped"

    def _dispatch(self, batch):
        with self._lock:
            # Draining: keep working until writes close. Stopped: take no new
            # work, the sidecar gets it back when the stream closes.
            if self._writes_closed or self._finish_reason == "stopped":
                return
            # The sidecar's ack deadline runs from now, queued or not.
            self._held[batch.batch_id] = time.monotonic()
        key = (batch.topic, batch.partition)
        worker = self._workers.get(key)
        if worker is None:
            worker = self._workers[key] = _PartitionWorker(self, key)
        self.outstanding.add()
        worker.submit(batch)


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.acked = 0
        self.retried = 0
        self.rejected = 0

    def add(self, outcomes):
        with self._lock:
            for _, outcome, _ in outcomes:
                if outcome == ACK:
                    self.acked += 1
                elif outcome == RETRY:
                    self.retried += 1
                else:
                    self.rejected += 1

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            return {"acked": self.acked, "retried": self.retried, "rejected": self.rejected}


class Client:
    """Runs `handler` against the sidecar at `target` ("host:port" or
    "unix:/path") until the sidecar drains or stop() is called."""

    def __init__(self, target: str, handler: Handler, options: Optional[Options] = None,
                 channel: Optional[grpc.Channel] = None):
        self._options = options or Options()
        self._channel = channel or grpc.insecure_channel(target)
        self._stub = pb_grpc.ConsumerSidecarStub(self._channel)
        self._handler = handler
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._current: Optional[_Stream] = None
        self.stats = Stats()
        self.streams_opened = 0

    def run(self) -> str:
        """Blocks; 'drained' or 'stopped'."""
        backoff = self._options.backoff_initial_s
        try:
            while True:
                with self._lock:
                    if self._stopped.is_set():
                        return "stopped"
                    stream = self._current = _Stream(
                        self._stub, self._handler, self._options, self.stats)
                    self.streams_opened += 1
                result = stream.run()
                with self._lock:
                    self._current = None
                if result != "dropped":
                    return result
                if stream.subscribed is not None:
                    backoff = self._options.backoff_initial_s
                # ±20% jitter so many handlers do not reconnect in lockstep.
                delay = backoff * random.uniform(0.8, 1.2)
                log.info("reconnecting in %.2fs", delay)
                if self._stopped.wait(delay):
                    return "stopped"
                backoff = min(backoff * 2, self._options.backoff_max_s)
        finally:
            self._channel.close()

    def stop(self):
        """Stop taking work, settle what is held, end run(). Any thread."""
        with self._lock:
            self._stopped.set()
            stream = self._current
        if stream is not None:
            stream.finish("stopped", self._options.stop_timeout_s)


def run_handler(target: str, handler: Handler, options: Optional[Options] = None) -> str:
    """Client(target, handler).run() with SIGTERM and SIGINT calling stop().
    Call from the main thread; returns 'drained' or 'stopped'."""
    client = Client(target, handler, options)
    result: List[str] = []

    def on_signal(signum, _frame):
        log.info("signal %d: settling and stopping", signum)
        client.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # The client runs on its own thread so the main thread, which Python
    # runs signal handlers on, never blocks inside gRPC.
    t = threading.Thread(target=lambda: result.append(client.run()), name="sidecar-client")
    t.start()
    while t.is_alive():
        t.join(0.2)
    log.info("done (%s): %s", result[0] if result else "error", client.stats.snapshot())
    return result[0] if result else "error"
