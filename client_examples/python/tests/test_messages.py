"""Null and empty keys and values, and the Retry outcome's own checks."""
import threading

import pytest

from kafka_sidecar_client import Retry
from kafka_sidecar_client._stubs import pb

from fake_sidecar import wait_until


def test_null_and_empty_keys_and_values_are_told_apart(sidecar, run_client):
    seen = []
    lock = threading.Lock()

    def handler(m):
        with lock:
            seen.append((m.offset, m.key, m.value, m.is_tombstone))

    run_client(sidecar.target, handler)
    s = sidecar.stream(0)
    s.send_batch(1, "t", 0, [0, 1, 2], values=[None, b"", b"x"], keys=[None, b"", b"k"])
    wait_until(lambda: s.settled_batches() == {1}, what="batch settled")
    assert seen == [(0, None, None, True), (1, b"", b"", False), (2, b"k", b"x", False)]


def test_a_naive_handler_failing_on_a_tombstone_retries_only_that_message(sidecar, run_client):
    # The handler forgets tombstones; the helper must survive and go on.
    r = run_client(sidecar.target, lambda m: m.value.decode())
    s = sidecar.stream(0)
    s.send_batch(1, "t", 0, [0], values=[None])
    s.send_batch(2, "t", 0, [1], values=[b"fine"])
    wait_until(lambda: s.settled_batches() == {1, 2}, what="both batches settled")
    by_batch = {x.batch_id: x for x in s.settlements()}
    assert by_batch[1].outcome == pb.OUTCOME_RETRY
    assert by_batch[1].reason.startswith("AttributeError: ")
    assert by_batch[2].outcome == pb.OUTCOME_ACK
    assert r.client.stats.snapshot() == {"processed": 1, "failed": 0, "retried": 1}


def test_retry_carries_its_reason_and_delay():
    e = Retry("rate limited", after_ms=1500)
    assert (str(e), e.reason, e.after_ms) == ("rate limited", "rate limited", 1500)
    assert Retry("x").after_ms == 0  # 0 = the sidecar's backoff


@pytest.mark.parametrize("after_ms,error", [
    (-1, ValueError), (2**32, ValueError), (1.5, TypeError), (True, TypeError)])
def test_retry_refuses_a_delay_the_protocol_cannot_carry(after_ms, error):
    with pytest.raises(error):
        Retry("x", after_ms=after_ms)
