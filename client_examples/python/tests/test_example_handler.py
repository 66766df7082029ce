import pytest

from example_handler import DigestHandler
from kafka_sidecar_client import Message, Reject


def message(value, offset=0):
    return Message(topic="t", partition=0, offset=offset, key=None, value=value, headers=[],
                   timestamp_ms=0, delivery_attempt=1)


def test_sums_numeric_fields_of_json_objects():
    h = DigestHandler()
    assert h(message(b'{"id": 1, "amount": 41, "name": "x", "ok": true}')) is True
    assert h(message(b'{"amount": 0.5}', offset=1)) is True
    assert h.count == 2
    assert h.total == 42.5


@pytest.mark.parametrize("value,reason", [
    (b'{"id": 499, "amount": ', "not UTF-8 JSON"),
    (b"\xff\xfe", "not UTF-8 JSON"),
    (b"[1, 2]", "expected a JSON object"),
    (None, "tombstone"),
])
def test_rejects_what_it_cannot_process_with_the_reason(value, reason):
    with pytest.raises(Reject, match=reason):
        DigestHandler()(message(value))
