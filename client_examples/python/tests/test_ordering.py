"""The ordering rule: what a RETRY means for the rest of its batch."""
import threading

import pytest

from kafka_sidecar_client import Reject, Retry
from kafka_sidecar_client._stubs import pb

from fake_sidecar import FakeSidecar, wait_until


def settled(stream):
    """The one Settle the batch got, as (offsets, outcome, reason, retry_after_ms)."""
    wait_until(lambda: stream.settlements(), what="a settlement")
    requests = [r for r in stream.requests if r.WhichOneof("request") == "settle"]
    assert len(requests) == 1, requests
    return [(list(x.offsets), x.outcome, x.reason, x.retry_after_ms)
            for x in requests[0].settle.settlements]


class Recorder:
    """A handler deciding by offset: 'ack', 'reject', or Retry(after_ms)."""

    def __init__(self, plan):
        self.plan = plan
        self.handled = []
        self._lock = threading.Lock()

    def __call__(self, m):
        with self._lock:
            self.handled.append(m.offset)
        action = self.plan.get(m.offset, "ack")
        if action == "reject":
            raise Reject(f"poison at {m.offset}")
        if isinstance(action, int):
            raise Retry("db down", after_ms=action)
        if action == "false":
            return False
        if action == "raise":
            raise ValueError("db down")
        return True


@pytest.mark.parametrize("ordering", [pb.ORDERING_PARTITION, pb.ORDERING_UNSPECIFIED])
def test_partition_ordering_stops_at_the_first_retry(run_client, ordering):
    fake = FakeSidecar(ordering=ordering)
    try:
        handler = Recorder({1: "reject", 2: 250, 4: 100})
        r = run_client(fake.target, handler)
        s = fake.stream(0)
        s.send_batch(7, "t", 0, [0, 1, 2, 3, 4])
        got = settled(s)
        # Offsets 3 and 4 stay unsettled: the sidecar rewinds to 2 and
        # delivers them again after it.
        assert got == [
            ([0], pb.OUTCOME_ACK, "", 0),
            ([1], pb.OUTCOME_REJECT, "poison at 1", 0),
            ([2], pb.OUTCOME_RETRY, "db down", 250),
        ]
        assert handler.handled == [0, 1, 2]
        assert r.client.stats.snapshot() == {"processed": 1, "failed": 1, "retried": 1}
    finally:
        fake.stop()


def test_partition_ordering_settles_a_whole_batch_without_retry_at_once(run_client):
    fake = FakeSidecar(ordering=pb.ORDERING_PARTITION)
    try:
        run_client(fake.target, Recorder({1: "reject"}))
        s = fake.stream(0)
        s.send_batch(3, "t", 0, [0, 1, 2])
        assert settled(s) == [
            ([0, 2], pb.OUTCOME_ACK, "", 0),
            ([1], pb.OUTCOME_REJECT, "poison at 1", 0),
        ]
    finally:
        fake.stop()


def test_none_ordering_settles_every_message_on_its_own(run_client):
    fake = FakeSidecar(ordering=pb.ORDERING_NONE)
    try:
        handler = Recorder({1: "false", 2: "reject", 3: "raise", 5: 100, 6: 200, 7: 100})
        r = run_client(fake.target, handler)
        s = fake.stream(0)
        s.send_batch(9, "t", 0, list(range(9)))
        # ACKs first; equal outcome, reason and delay share an entry, a
        # different delay does not.
        assert settled(s) == [
            ([0, 4, 8], pb.OUTCOME_ACK, "", 0),
            ([1], pb.OUTCOME_RETRY, "handler returned False", 0),
            ([2], pb.OUTCOME_REJECT, "poison at 2", 0),
            ([3], pb.OUTCOME_RETRY, "ValueError: db down", 0),
            ([5, 7], pb.OUTCOME_RETRY, "db down", 100),
            ([6], pb.OUTCOME_RETRY, "db down", 200),
        ]
        assert handler.handled == list(range(9))
        assert r.client.stats.snapshot() == {"processed": 3, "failed": 1, "retried": 5}
    finally:
        fake.stop()


def test_none_ordering_all_acked_is_one_entry_for_the_batch(run_client):
    fake = FakeSidecar(ordering=pb.ORDERING_NONE)
    try:
        run_client(fake.target, lambda m: None)  # returning normally = ACK
        s = fake.stream(0)
        s.send_batch(4, "t", 0, [10, 11])
        assert settled(s) == [([], pb.OUTCOME_ACK, "", 0)]
    finally:
        fake.stop()
