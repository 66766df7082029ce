#!/usr/bin/env python3
"""Example kafka-sidecar handler: decodes each message as UTF-8 JSON,
"processes" it (sums its numeric fields into a running digest) and rejects
what does not parse, so the sidecar dead-letters it with the parse error as
the reason.

Environment:
  SIDECAR_ADDRESS  gRPC target of the sidecar (default 127.0.0.1:50051;
                   "unix:/path" for a Unix socket)
  HANDLER_NAME     name shown in the sidecar's stats (default python-example)
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

from kafka_sidecar_client import Message, Reject
from kafka_sidecar_client.client import Options, run_handler


class DigestHandler:
    """Thread-safe: partitions are handled on different threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.total = 0.0
        self.count = 0
        self._digest = hashlib.sha256()
        self._last_report = time.monotonic()

    def __call__(self, message: Message) -> bool:
        if message.value is None:
            raise Reject("tombstone: no value to process")
        try:
            doc = json.loads(message.value.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise Reject(f"not UTF-8 JSON: {e}") from None
        if not isinstance(doc, dict):
            raise Reject(f"expected a JSON object, got {type(doc).__name__}")
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
        return True


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(threadName)s %(message)s")
    target = os.environ.get("SIDECAR_ADDRESS", "127.0.0.1:50051")
    name = os.environ.get("HANDLER_NAME", "python-example")
    handler = DigestHandler()
    logging.info("%s connecting to %s", name, target)
    result = run_handler(target, handler, Options(handler_name=name))
    logging.info("exiting (%s) after %d messages, sum %.0f", result, handler.count, handler.total)
    return 0 if result in ("drained", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
