"""run_handler: defaults from the environment and built-in SIGTERM/SIGINT."""
import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading

import pytest

from kafka_sidecar_client import Client, Options, run_handler
from kafka_sidecar_client._stubs import pb

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent.parent

# Holds each message until the test writes a line to its stdin.
CHILD = """
import logging, sys
from kafka_sidecar_client import run_handler
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")

def handle(message):
    print(f"handling {message.offset}", flush=True)
    sys.stdin.readline()

print(f"result {run_handler(handle)}", flush=True)
"""


class Lines:
    """A pipe's lines, read on a thread so the test can wait with a deadline."""

    def __init__(self, pipe):
        self._q = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe):
        for line in pipe:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def expect(self, predicate, what, timeout=10.0):
        while True:
            try:
                line = self._q.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {what} within {timeout}s; saw {self.seen}") from None
            if line is None:
                raise AssertionError(f"pipe closed before {what}; saw {self.seen}")
            self.seen.append(line)
            if predicate(line):
                return line

    def rest(self, timeout=10.0):
        """Every line, once the pipe closed."""
        while True:
            line = self._q.get(timeout=timeout)
            if line is None:
                return self.seen
            self.seen.append(line)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_settles_what_is_held_and_exits_0(sidecar, signum):
    env = dict(os.environ, SIDECAR_ADDRESS=sidecar.target, HANDLER_NAME="from-env",
               PYTHONPATH=str(PACKAGE_ROOT))
    proc = subprocess.Popen([sys.executable, "-c", CHILD], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        out, err = Lines(proc.stdout), Lines(proc.stderr)
        s = sidecar.stream(0)
        assert s.subscribe().handler_name == "from-env"
        s.send_batch(1, "t", 0, [0])
        out.expect(lambda line: line == "handling 0", "the handler holding offset 0")
        proc.send_signal(signum)
        err.expect(lambda line: line.startswith(f"signal {int(signum)}: "), "the signal's log line")
        s.send_batch(2, "t", 1, [100])  # after the signal: never started
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(timeout=15) == 0, err.rest()
        assert out.rest() == ["handling 0", "result stopped"]
        assert s.settled_batches() == {1}
        assert [x.outcome for x in s.settlements()] == [pb.OUTCOME_ACK]
        assert s.half_closed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_without_signal_handling_it_runs_off_the_main_thread(sidecar):
    result = []
    t = threading.Thread(target=lambda: result.append(
        run_handler(lambda m: True, sidecar.target, Options(handler_name="t"),
                    handle_signals=False)))
    t.start()
    s = sidecar.stream(0)
    s.send_batch(1, "t", 0, [0])
    s.send_draining(deadline_ms=5000)
    t.join(15)
    assert result == ["drained"]
    assert s.settled_batches() == {1}


def test_signal_handling_needs_the_main_thread():
    errors = []

    def call():
        try:
            run_handler(lambda m: True, "127.0.0.1:1")
        except RuntimeError as e:
            errors.append(str(e))

    t = threading.Thread(target=call)
    t.start()
    t.join(10)
    assert len(errors) == 1 and "main thread" in errors[0]


def test_target_and_name_default_from_the_environment(monkeypatch):
    monkeypatch.setenv("SIDECAR_ADDRESS", "unix:/run/sidecar.sock")
    monkeypatch.setenv("HANDLER_NAME", "orders")
    c = Client(lambda m: True)
    assert (c.target, c.handler_name) == ("unix:/run/sidecar.sock", "orders")
    explicit = Client(lambda m: True, "10.1.2.3:50051", Options(handler_name="mine"))
    assert (explicit.target, explicit.handler_name) == ("10.1.2.3:50051", "mine")


def test_defaults_without_the_environment(monkeypatch):
    monkeypatch.delenv("SIDECAR_ADDRESS", raising=False)
    monkeypatch.setenv("HANDLER_NAME", "")  # empty = unset
    c = Client(lambda m: True)
    assert (c.target, c.handler_name) == ("127.0.0.1:50051", "python-handler")
