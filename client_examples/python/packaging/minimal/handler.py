import json

from kafka_sidecar_client import Reject, run_handler


def handle(message):
    if message.value is None:
        raise Reject("tombstone")
    try:
        json.loads(message.value)
    except ValueError as e:  # malformed JSON or not UTF-8
        raise Reject(f"not JSON: {e}")


run_handler(handle)  # until SIGTERM; SIDECAR_ADDRESS, HANDLER_NAME from the environment
