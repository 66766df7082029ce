"""The helper's counters, with the meanings of the sidecar's own."""
from __future__ import annotations

import threading
from typing import Dict, Sequence

from .outcomes import ACK, REJECT, RETRY, Decision


class Stats:
    """Settlements this process sent, by outcome:

    * processed: settled ACK (the sidecar's messages_processed)
    * failed: settled REJECT (dead-lettered; the sidecar's messages_failed
      also counts messages out of retries)
    * retried: settled RETRY by the handler. Messages left unsettled behind a
      RETRY under ``ordering: partition`` are not counted: the sidecar takes
      them back and delivers them again, and they are counted when settled.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.processed = 0
        self.failed = 0
        self.retried = 0

    def add(self, decisions: Sequence[Decision]):
        with self._lock:
            for d in decisions:
                if d.outcome == ACK:
                    self.processed += 1
                elif d.outcome == REJECT:
                    self.failed += 1
                elif d.outcome == RETRY:
                    self.retried += 1

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            return {"processed": self.processed, "failed": self.failed, "retried": self.retried}
