"""Client options, and the defaults taken from the environment so a handler
needs no configuration code."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Sequence

DEFAULT_TARGET = "127.0.0.1:50051"
DEFAULT_HANDLER_NAME = "python-handler"


def default_target() -> str:
    """$SIDECAR_ADDRESS ("host:port" or "unix:/path"), else 127.0.0.1:50051."""
    return os.environ.get("SIDECAR_ADDRESS") or DEFAULT_TARGET


def default_handler_name() -> str:
    """$HANDLER_NAME, else python-handler."""
    return os.environ.get("HANDLER_NAME") or DEFAULT_HANDLER_NAME


@dataclass
class Options:
    # None = $HANDLER_NAME, else "python-handler". Shown in the sidecar's stats.
    handler_name: Optional[str] = None
    topics: Sequence[str] = ()  # empty = every topic the sidecar consumes
    max_in_flight_messages: int = 0  # 0 = the sidecar's default
    max_batch_messages: int = 0
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 10.0
    # How long stop() waits for held batches before closing the stream anyway.
    stop_timeout_s: float = 20.0
