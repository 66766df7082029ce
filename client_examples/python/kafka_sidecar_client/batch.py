"""Handling one batch under the sidecar's ordering mode, and the Settle that
reports it.

Under ``ordering: partition`` (and from an older sidecar that does not say)
a RETRY rewinds the partition: the sidecar takes back every later message
and delivers them again after the retried one. So the batch stops at its
first RETRY; the messages before it are settled as decided, the later ones
stay unsettled and unhandled (handling them would only be repeated, and
their settlements would be stale). Under ``ordering: none`` every message is
handled and settled on its own; a RETRY affects only that message.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Tuple

from ._stubs import pb
from .message import from_proto
from .outcomes import ACK, RETRY, Decision, Handler, decide


def stops_at_first_retry(ordering: int) -> bool:
    return ordering != pb.ORDERING_NONE


def handle_batch(handler: Handler, batch, ordering: int,
                 abandoned: Callable[[], bool]) -> List[Decision]:
    """The decisions for a prefix of the batch (all of it unless a RETRY
    stopped it); empty when the stream was abandoned meanwhile."""
    decisions: List[Decision] = []
    stop_at_retry = stops_at_first_retry(ordering)
    for m in batch.messages:
        if abandoned():
            return []
        d = decide(handler, from_proto(batch, m))
        decisions.append(d)
        if stop_at_retry and d.outcome == RETRY:
            break
    return decisions


def settle_request(batch_id: int, batch_size: int, decisions: Sequence[Decision]):
    """One Settle for a batch. Decisions that share outcome, reason and retry
    delay share a Settlement; ACKs come first, so a RETRY that rewinds the
    partition cannot take back what this batch acknowledged."""
    settle = pb.Settle()
    if len(decisions) == batch_size and all(d.outcome == ACK for d in decisions):
        # Empty offsets = every unsettled message of the batch.
        settle.settlements.add(batch_id=batch_id, outcome=ACK)
        return pb.ConsumeRequest(settle=settle)
    groups: Dict[Tuple[int, str, int], List[int]] = {}
    for d in sorted(decisions, key=lambda d: d.outcome != ACK):  # stable: offset order kept
        groups.setdefault((d.outcome, d.reason, d.retry_after_ms), []).append(d.offset)
    for (outcome, reason, retry_after_ms), offsets in groups.items():
        settle.settlements.add(batch_id=batch_id, offsets=offsets, outcome=outcome,
                               reason=reason, retry_after_ms=retry_after_ms)
    return pb.ConsumeRequest(settle=settle)
