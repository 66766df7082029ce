"""An in-process fake of the sidecar's ConsumerSidecar service: the test
scripts what each Consume stream receives and inspects what the client sent."""
import queue
import threading
import time
from concurrent import futures

import grpc

from kafka_sidecar_client._stubs import pb, pb_grpc

_END = object()


def wait_until(predicate, timeout=10.0, what="condition"):
    """Polls state that has no event of its own, up to a deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


class FakeStream:
    def __init__(self):
        self._out: "queue.Queue" = queue.Queue()
        self._lock = threading.Lock()
        self.requests = []  # every ConsumeRequest, in order
        self.half_closed = False
        self.ended = False

    # --- scripting the sidecar side ---

    def send_batch(self, batch_id, topic, partition, offsets, values=None, keys=None,
                   delivery_attempt=1):
        """values/keys: one per offset; None in them = a null value/key."""
        batch = pb.Batch(batch_id=batch_id, topic=topic, partition=partition)
        for i, offset in enumerate(offsets):
            m = batch.messages.add(offset=offset, delivery_attempt=delivery_attempt)
            value = values[i] if values is not None else f"v{offset}".encode()
            if value is not None:
                m.value = value
            if keys is not None and keys[i] is not None:
                m.key = keys[i]
        self._out.put(pb.ConsumeResponse(batch=batch))

    def send_paused(self, topic, partition, resume_in_ms, reason):
        self._out.put(pb.ConsumeResponse(paused=pb.PartitionPaused(
            partition=pb.TopicPartition(topic=topic, partition=partition),
            resume_in_ms=resume_in_ms, reason=reason)))

    def send_unknown_kind(self):
        """A response whose oneof field (number 15) this client's proto does
        not know, as a newer sidecar could send."""
        self._out.put(pb.ConsumeResponse.FromString(bytes([15 << 3 | 2, 0])))

    def send_draining(self, deadline_ms=5000):
        self._out.put(pb.ConsumeResponse(draining=pb.Draining(deadline_ms=deadline_ms)))

    def drop(self):
        """Ends the stream with UNAVAILABLE, as a crashed sidecar would."""
        self._out.put(grpc.StatusCode.UNAVAILABLE)

    # --- what the client sent ---

    def settlements(self):
        with self._lock:
            return [s for r in self.requests if r.WhichOneof("request") == "settle"
                    for s in r.settle.settlements]

    def settled_batches(self):
        return {s.batch_id for s in self.settlements()}

    def extends(self):
        with self._lock:
            return [r.extend for r in self.requests if r.WhichOneof("request") == "extend"]

    def extended_batches(self):
        return {i for e in self.extends() for i in e.batch_ids}

    def subscribe(self):
        with self._lock:
            firsts = [r.subscribe for r in self.requests if r.WhichOneof("request") == "subscribe"]
        return firsts[0] if firsts else None

    def _record(self, request):
        with self._lock:
            self.requests.append(request)


class FakeSidecar(pb_grpc.ConsumerSidecarServicer):
    def __init__(self, ack_timeout_ms=30000, ordering=pb.ORDERING_PARTITION):
        self._lock = threading.Lock()
        self._ack_timeout_ms = ack_timeout_ms
        self._ordering = ordering
        self.streams = []
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        pb_grpc.add_ConsumerSidecarServicer_to_server(self, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.target = f"127.0.0.1:{port}"
        self._server.start()

    def stop(self):
        self._server.stop(grace=None)

    def stream(self, index, timeout=10.0):
        wait_until(lambda: len(self.streams) > index, timeout, f"stream #{index}")
        s = self.streams[index]
        wait_until(lambda: s.subscribe() is not None, timeout, f"Subscribe on stream #{index}")
        return s

    def Consume(self, request_iterator, context):
        s = FakeStream()
        with self._lock:
            self.streams.append(s)

        def read():
            try:
                for request in request_iterator:
                    s._record(request)
                # The real sidecar ends the stream when the handler half-closes.
                s.half_closed = True
                s._out.put(_END)
            except Exception:  # noqa: BLE001 - the stream went away
                s._out.put(_END)

        threading.Thread(target=read, daemon=True).start()
        yield pb.ConsumeResponse(subscribed=pb.Subscribed(
            stream_id=f"s{len(self.streams)}", group_id="g", topics=["t"],
            ack_timeout_ms=self._ack_timeout_ms, ordering=self._ordering))
        try:
            while True:
                item = s._out.get()
                if item is _END:
                    return
                if isinstance(item, grpc.StatusCode):
                    context.abort(item, "fake sidecar dropped the stream")
                yield item
        finally:
            s.ended = True
