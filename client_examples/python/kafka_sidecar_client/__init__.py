"""A helper for writing kafka-sidecar handlers in Python.

    from kafka_sidecar_client import Reject, Retry, run_handler

    def handle(message):          # message.value: bytes, or None for a tombstone
        if message.value is None:
            raise Reject("tombstone")       # REJECT: dead letter, no retry
        if not dependency_up():
            raise Retry("db down", after_ms=500)   # RETRY in 500 ms
        ...                                 # returning = ACK

    run_handler(handle)   # $SIDECAR_ADDRESS, $HANDLER_NAME; exits on SIGTERM

See outcomes.py for the outcomes, batch.py for the ordering rule and
client.py for the delivery rules.
"""
from .client import Client
from .message import Message
from .options import Options
from .outcomes import Reject, Retry
from .run import run_handler
from .stats import Stats

__version__ = "0.1.0"

__all__ = ["Client", "Message", "Options", "Reject", "Retry", "Stats", "run_handler"]
