#!/usr/bin/env python3
"""Example kafka-sidecar handler: decodes each message as UTF-8 JSON,
"processes" it (sums its numeric fields into a running digest) and rejects
what does not parse, so the sidecar dead-letters it with the parse error as
the reason. A JSON object with "fail_once": true fails transiently on its
first delivery: it is retried after 50 ms and processed the second time.

Environment (read by the helper):
  SIDECAR_ADDRESS  gRPC target of the sidecar (default 127.0.0.1:50051;
                   "unix:/path" for a Unix socket)
  HANDLER_NAME     name shown in the sidecar's stats (default python-handler)
  LOG_LEVEL        default INFO

Runs until the sidecar drains or SIGTERM/SIGINT, then settles what it holds
and exits 0.
"""
import hashlib
import json
import logging
import os
import sys
import threading
import time

from kafka_sidecar_client import Message, Reject, Retry, run_handler

FAIL_ONCE_RETRY_MS = 50


class DigestHandler:
    """Thread-safe: partitions are handled on different threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.total = 0.0
        self.count = 0
        self._digest = hashlib.sha256()
        self._last_report = time.monotonic()

    def __call__(self, message: Message) -> None:
        if message.value is None:
            raise Reject("tombstone: no value to process")
        try:
            doc = json.loads(message.value.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise Reject(f"not UTF-8 JSON: {e}") from None
        if not isinstance(doc, dict):
            raise Reject(f"expected a JSON object, got {type(doc).__name__}")
        if doc.get("fail_once") is True and message.delivery_attempt <= 1:
            raise Retry("transient failure (fail_once)", after_ms=FAIL_ONCE_RETRY_MS)
        amount = sum(v for v in doc.values()
                     if isinstance(v, (int, float)) and not isinstance(v, bool))
        with self._lock:
            self.total += amount
            self.count += 1
            self._digest.update(f"{message.partition}:{message.offset}:{amount};".encode())
            now = time.monotonic()
            if now - self._last_report >= 5:
                self._last_report = now
                logging.info("processed %d messages, sum %.0f, digest %s",
                             self.count, self.total, self._digest.hexdigest()[:16])


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(threadName)s %(message)s")
    handler = DigestHandler()
    result = run_handler(handler)
    logging.info("exiting (%s) after %d messages, sum %.0f", result, handler.count, handler.total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
