import pytest

from example_handler import FAIL_ONCE_RETRY_MS, DigestHandler
from kafka_sidecar_client import Message, Reject, Retry


def message(value, offset=0, delivery_attempt=1):
    return Message(topic="t", partition=0, offset=offset, key=None, value=value, headers=[],
                   timestamp_ms=0, delivery_attempt=delivery_attempt)


def test_sums_numeric_fields_of_json_objects():
    h = DigestHandler()
    h(message(b'{"id": 1, "amount": 41, "name": "x", "ok": true}'))
    h(message(b'{"amount": 0.5}', offset=1))
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


@pytest.mark.parametrize("attempt", [0, 1])
def test_fail_once_is_a_transient_failure_on_the_first_delivery(attempt):
    h = DigestHandler()
    with pytest.raises(Retry) as e:
        h(message(b'{"amount": 5, "fail_once": true}', delivery_attempt=attempt))
    assert (e.value.reason, e.value.after_ms) == ("transient failure (fail_once)", 50)
    assert FAIL_ONCE_RETRY_MS == 50
    assert h.count == 0, "a retried message must not be counted as processed"


def test_fail_once_is_processed_on_a_later_attempt():
    h = DigestHandler()
    h(message(b'{"amount": 5, "fail_once": true}', delivery_attempt=2))
    assert (h.count, h.total) == (1, 5)


def test_fail_once_false_is_processed_at_once():
    h = DigestHandler()
    h(message(b'{"amount": 5, "fail_once": false}'))
    assert h.count == 1
