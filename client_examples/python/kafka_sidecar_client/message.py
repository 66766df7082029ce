"""The message a handler receives."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class Message:
    """One Kafka record as the sidecar delivered it.

    ``key`` and ``value`` are ``None`` for a null key and a null value (a
    tombstone), and ``b""`` when empty: Kafka keeps the two apart, and so does
    this type. Header values follow the same rule.
    """

    topic: str
    partition: int
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]
    headers: List[Tuple[str, Optional[bytes]]]
    timestamp_ms: int
    delivery_attempt: int  # 1 on first delivery

    @property
    def is_tombstone(self) -> bool:
        return self.value is None


def from_proto(batch, m) -> Message:
    """A Message from a pb.Batch and one of its pb.Message entries."""
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
