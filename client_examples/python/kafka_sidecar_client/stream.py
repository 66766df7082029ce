"""One Consume stream: reads the sidecar's responses, hands batches to a
worker thread per partition, sends their settlements and keeps held batches
extended."""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Dict, Optional, Tuple

import grpc

from ._stubs import pb
from .batch import handle_batch, settle_request
from .options import Options
from .outcomes import Handler
from .stats import Stats

log = logging.getLogger("kafka_sidecar_client")


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
    """Handles one partition's batches one at a time, in arrival order."""

    def __init__(self, stream: "Stream", key: Tuple[str, int]):
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
                decisions = handle_batch(s.handler, batch, s.ordering, lambda: s.abandoned)
                if not s.abandoned and decisions:
                    # Counted before the send: whoever sees the Settle may read stats.
                    s.stats.add(decisions)
                    s.send(settle_request(batch.batch_id, len(batch.messages), decisions))
            finally:
                s.release(batch.batch_id)


class Stream:
    def __init__(self, stub, handler: Handler, options: Options, handler_name: str,
                 stats: Stats):
        self._stub = stub
        self.handler = handler
        self._options = options
        self._handler_name = handler_name
        self.stats = stats
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
        # Set from Subscribed before any batch arrives; UNSPECIFIED (an older
        # sidecar) is handled as PARTITION.
        self.ordering = pb.ORDERING_UNSPECIFIED

    # --- writes (any thread) ---

    def _request_iterator(self):
        o = self._options
        yield pb.ConsumeRequest(subscribe=pb.Subscribe(
            handler_name=self._handler_name, topics=list(o.topics),
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
                self._on_response(response)
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

    def _on_response(self, response):
        # Kinds this helper does not know (a newer sidecar) are skipped: the
        # protocol only adds kinds a handler may ignore.
        kind = response.WhichOneof("response")
        if kind == "batch":
            self._dispatch(response.batch)
        elif kind == "subscribed":
            sub = self.subscribed = response.subscribed
            self.ordering = sub.ordering
            log.info("subscribed: stream %s, group %s, topics %s, ack timeout %d ms, %s",
                     sub.stream_id, sub.group_id, list(sub.topics), sub.ack_timeout_ms,
                     pb.Ordering.Name(sub.ordering) if sub.ordering in pb.Ordering.values()
                     else f"ordering {sub.ordering}")
            self._start_extender(sub.ack_timeout_ms)
        elif kind == "paused":
            p = response.paused
            log.warning("kafka-sidecar paused %s/%d for %d ms: %s", p.partition.topic,
                        p.partition.partition, p.resume_in_ms, p.reason)
        elif kind == "assignment":
            log.info("assignment: +%d -%d partitions",
                     len(response.assignment.assigned), len(response.assignment.revoked))
        elif kind == "draining":
            deadline_s = response.draining.deadline_ms / 1000.0
            log.info("sidecar draining, %.1fs to settle", deadline_s)
            # Leave a margin so the settlements land before the deadline.
            self.finish("drained", deadline_s * 0.8 if deadline_s > 0 else 5.0)

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
