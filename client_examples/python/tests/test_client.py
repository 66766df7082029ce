import threading
from collections import defaultdict

import pytest

from kafka_sidecar_client._stubs import pb

from fake_sidecar import FakeSidecar, wait_until


def test_subscribes_with_its_name(sidecar, run_client):
    run_client(sidecar.target, lambda m: True)
    assert sidecar.stream(0).subscribe().handler_name == "test-handler"


def test_each_partition_in_order_and_one_settle_per_batch(sidecar, run_client):
    seen = defaultdict(list)
    lock = threading.Lock()

    def handler(m):
        with lock:
            seen[m.partition].append(m.offset)
        return True

    run_client(sidecar.target, handler)
    s = sidecar.stream(0)
    batch_id = 0
    for first in range(0, 50, 10):
        for partition in range(3):
            batch_id += 1
            s.send_batch(batch_id, "t", partition, list(range(first, first + 10)))
    wait_until(lambda: len(s.settled_batches()) == batch_id, what="all batches settled")
    for partition in range(3):
        assert seen[partition] == list(range(50)), partition
    settlements = s.settlements()
    assert len(settlements) == batch_id  # one per batch
    assert all(x.outcome == pb.OUTCOME_ACK and not x.offsets for x in settlements)


def test_partitions_are_processed_concurrently(sidecar, run_client):
    # Both partitions must be inside the handler at the same time to pass.
    barrier = threading.Barrier(2, timeout=5)

    def handler(m):
        barrier.wait()
        return True

    run_client(sidecar.target, handler)
    s = sidecar.stream(0)
    s.send_batch(1, "t", 0, [0])
    s.send_batch(2, "t", 1, [0])
    wait_until(lambda: len(s.settlements()) == 2, what="both settled")
    assert all(x.outcome == pb.OUTCOME_ACK for x in s.settlements()), s.settlements()


def test_reconnects_after_the_stream_drops_without_stale_settlements(sidecar, run_client):
    release = threading.Event()
    entered = threading.Event()

    def handler(m):
        if m.value == b"slow":
            entered.set()
            release.wait(10)
        return True

    r = run_client(sidecar.target, handler)
    first = sidecar.stream(0)
    first.send_batch(1, "t", 0, [0], values=[b"slow"])
    assert entered.wait(5)
    first.drop()
    wait_until(lambda: first.ended, what="first stream ended")
    release.set()
    second = sidecar.stream(1)
    assert second.subscribe().handler_name == "test-handler"
    second.send_batch(2, "t", 0, [0])
    wait_until(lambda: second.settled_batches() == {2}, what="batch 2 settled")
    # Batch 1 belonged to the dropped stream: its settlement goes nowhere.
    assert second.settled_batches() == {2}
    assert 1 not in first.settled_batches()
    assert r.client.streams_opened == 2


def test_keeps_reconnecting_while_the_sidecar_is_down(run_client):
    fake = FakeSidecar()
    target = fake.target
    fake.stop()
    r = run_client(target, lambda m: True)
    wait_until(lambda: r.client.streams_opened >= 3, what="three attempts")
    r.client.stop()
    assert r.join() == "stopped"


def test_draining_settles_held_batches_then_closes_and_returns(sidecar, run_client):
    release = threading.Event()

    def handler(m):
        release.wait(10)
        return True

    r = run_client(sidecar.target, handler)
    s = sidecar.stream(0)
    for partition in range(3):
        s.send_batch(partition + 1, "t", partition, [0, 1])
    s.send_draining(deadline_ms=10000)
    release.set()
    assert r.join() == "drained"
    assert s.settled_batches() == {1, 2, 3}
    assert s.half_closed, "the client did not close its side after settling"
    assert len(sidecar.streams) == 1, "reconnected after draining"


def test_stop_settles_what_it_holds_and_takes_no_new_work(sidecar, run_client):
    entered = threading.Event()
    release = threading.Event()
    handled = []

    def handler(m):
        handled.append(m.offset)
        entered.set()
        release.wait(10)
        return True

    r = run_client(sidecar.target, handler)
    s = sidecar.stream(0)
    s.send_batch(1, "t", 0, [0])
    assert entered.wait(5)
    r.client.stop()
    s.send_batch(2, "t", 1, [100])  # arrives after stop: not started
    release.set()
    assert r.join() == "stopped"
    assert s.settled_batches() == {1}
    assert handled == [0]
    assert s.half_closed


@pytest.fixture
def short_ack_sidecar():
    fake = FakeSidecar(ack_timeout_ms=200)
    yield fake
    fake.stop()


def test_extends_held_batches_until_they_are_settled(short_ack_sidecar, run_client):
    extended = threading.Event()
    handled = []

    def handler(m):
        # Held until the test saw the Extend: far past the 200 ms ack timeout.
        if not extended.wait(10):
            raise TimeoutError("no Extend seen")
        handled.append(m.offset)
        return True

    run_client(short_ack_sidecar.target, handler)
    s = short_ack_sidecar.stream(0)
    s.send_batch(42, "t", 0, [0])
    # Queued behind batch 42: its sidecar deadline runs as well.
    s.send_batch(43, "t", 0, [1])
    wait_until(lambda: {42, 43} <= s.extended_batches(), what="an Extend naming batches 42 and 43")
    extended.set()
    wait_until(lambda: s.settled_batches() == {42, 43}, what="both batches settled")
    assert handled == [0, 1]
    assert all(x.outcome == pb.OUTCOME_ACK for x in s.settlements())
    extends = s.extends()
    assert all(e.extend_ms == 0 for e in extends), "0 = another ack_timeout_ms"
    assert s.extended_batches() <= {42, 43}, extends
