"""The Client: one Consume stream at a time, reconnecting with backoff.

Delivery rules the helper keeps:

* Each partition has its own worker thread, so partitions are processed
  concurrently while the messages of one partition are handled one at a
  time, in the order the sidecar sent them.
* What the handler's return value or exception means: see outcomes.py.
  After a RETRY, the sidecar's ordering mode decides whether the rest of the
  batch is handled: see batch.py.
* A batch is settled with one Settle request once it was handled.
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
import random
import threading
from typing import Optional

import grpc

from ._stubs import pb_grpc
from .options import Options, default_handler_name, default_target
from .outcomes import Handler
from .stats import Stats
from .stream import Stream

log = logging.getLogger("kafka_sidecar_client")


class Client:
    """Runs ``handler`` against the sidecar at ``target`` ("host:port" or
    "unix:/path"; None = $SIDECAR_ADDRESS, else 127.0.0.1:50051) until the
    sidecar drains or stop() is called."""

    def __init__(self, handler: Handler, target: Optional[str] = None,
                 options: Optional[Options] = None, channel: Optional[grpc.Channel] = None):
        self._options = options or Options()
        self.target = target or default_target()
        self.handler_name = self._options.handler_name or default_handler_name()
        self._channel = channel or grpc.insecure_channel(self.target)
        self._stub = pb_grpc.ConsumerSidecarStub(self._channel)
        self._handler = handler
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._current: Optional[Stream] = None
        self.stats = Stats()
        self.streams_opened = 0

    def run(self) -> str:
        """Blocks; 'drained' or 'stopped'."""
        backoff = self._options.backoff_initial_s
        log.info("%s connecting to %s", self.handler_name, self.target)
        try:
            while True:
                with self._lock:
                    if self._stopped.is_set():
                        return "stopped"
                    stream = self._current = Stream(
                        self._stub, self._handler, self._options, self.handler_name, self.stats)
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
