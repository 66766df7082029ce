import threading

import pytest

from kafka_sidecar_client import Client, Options

from fake_sidecar import FakeSidecar


@pytest.fixture
def sidecar():
    fake = FakeSidecar()
    yield fake
    fake.stop()


class Running:
    """A Client on its own thread, stopped and joined at the end of a test."""

    def __init__(self, target, handler, **options):
        opts = Options(handler_name=options.pop("handler_name", "test-handler"),
                       backoff_initial_s=0.05, backoff_max_s=0.2, stop_timeout_s=5, **options)
        self.client = Client(handler, target, opts)
        self.result = []
        self.thread = threading.Thread(target=lambda: self.result.append(self.client.run()))
        self.thread.start()

    def join(self, timeout=15):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "client.run() did not return"
        return self.result[0]


@pytest.fixture
def run_client():
    running = []

    def start(target, handler, **options):
        r = Running(target, handler, **options)
        running.append(r)
        return r

    yield start
    for r in running:
        r.client.stop()
        r.join()
