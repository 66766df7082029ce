"""Responses that are not batches: PartitionPaused and kinds this client does
not know."""
import logging

from kafka_sidecar_client._stubs import pb

from fake_sidecar import wait_until


def test_partition_paused_is_logged_and_unknown_kinds_are_ignored(sidecar, run_client, caplog):
    caplog.set_level(logging.WARNING, logger="kafka_sidecar_client")
    r = run_client(sidecar.target, lambda m: True)
    s = sidecar.stream(0)
    s.send_paused("orders", 2, 30000, "error threshold: 10 errors within 60000 ms")
    s.send_unknown_kind()
    s.send_batch(1, "orders", 1, [0])
    wait_until(lambda: s.settled_batches() == {1}, what="the batch after them settled")
    paused = [rec.getMessage() for rec in caplog.records if "paused" in rec.getMessage()]
    assert paused == [
        "kafka-sidecar paused orders/2 for 30000 ms: error threshold: 10 errors within 60000 ms"]
    assert r.client.streams_opened == 1, "an unknown response kind dropped the stream"
    assert [x.outcome for x in s.settlements()] == [pb.OUTCOME_ACK]
