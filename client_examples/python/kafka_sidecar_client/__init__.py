"""A small helper for writing kafka-sidecar handlers in Python.

    from kafka_sidecar_client import Reject, run_handler

    def handle(message):
        if message.value is None:
            raise Reject("tombstone")
        ...
        return True            # ack; False = retry later

    run_handler("127.0.0.1:50051", handle)

See client.py for the delivery rules.
"""
from .client import Client, Message, Reject, run_handler

__all__ = ["Client", "Message", "Reject", "run_handler"]
