"""How a handler's return value or exception becomes ACK, RETRY or REJECT.

* return normally (``None`` or ``True``)  -> ACK
* return ``False``                       -> RETRY, the sidecar's backoff
* ``raise Retry(reason, after_ms=n)``    -> RETRY, redelivered after n ms
* ``raise Reject(reason)``               -> REJECT: dead letter, no retry
* any other exception                    -> RETRY, the exception as reason
"""
from __future__ import annotations

import logging
from typing import Callable, NamedTuple, Optional

from ._stubs import pb
from .message import Message

log = logging.getLogger("kafka_sidecar_client")

ACK = pb.OUTCOME_ACK
RETRY = pb.OUTCOME_RETRY
REJECT = pb.OUTCOME_REJECT

# Reasons travel in a dead-letter header and in logs; a traceback-sized one
# helps nobody there.
_MAX_REASON = 1000
# Settlement.retry_after_ms is a uint32.
_MAX_RETRY_AFTER_MS = 2**32 - 1

Handler = Callable[[Message], Optional[bool]]


class Reject(Exception):
    """Raised by a handler for a message that can never succeed (poison): the
    sidecar gives it up at once (dead-letter topic, if configured) instead of
    retrying it. The exception's text is the reason."""


class Retry(Exception):
    """Raised by a handler for a message that may succeed later (a dependency
    is down, a rate limit): the sidecar delivers it again after ``after_ms``
    milliseconds, or after its configured backoff when ``after_ms`` is 0."""

    def __init__(self, reason: str = "retry requested", *, after_ms: int = 0):
        if isinstance(after_ms, bool) or not isinstance(after_ms, int):
            raise TypeError(f"after_ms must be an int of milliseconds, got {after_ms!r}")
        if not 0 <= after_ms <= _MAX_RETRY_AFTER_MS:
            raise ValueError(f"after_ms must be within 0..{_MAX_RETRY_AFTER_MS}, got {after_ms}")
        super().__init__(reason)
        self.reason = reason
        self.after_ms = after_ms


class Decision(NamedTuple):
    """What the handler decided for one message."""

    offset: int
    outcome: int
    reason: str = ""
    retry_after_ms: int = 0


def decide(handler: Handler, message: Message) -> Decision:
    try:
        result = handler(message)
    except Reject as e:
        return Decision(message.offset, REJECT, (str(e) or "rejected")[:_MAX_REASON])
    except Retry as e:
        return Decision(message.offset, RETRY, (e.reason or "retry requested")[:_MAX_REASON],
                        e.after_ms)
    except Exception as e:  # noqa: BLE001 - any other handler error is a retry
        # Unlike Reject and Retry this is likely a bug; the sidecar only sees
        # the reason, so say it here too.
        log.warning("handler raised on %s/%d offset %d: %s: %s", message.topic,
                    message.partition, message.offset, type(e).__name__, e)
        return Decision(message.offset, RETRY, f"{type(e).__name__}: {e}"[:_MAX_REASON])
    if result is False:
        return Decision(message.offset, RETRY, "handler returned False")
    return Decision(message.offset, ACK)
