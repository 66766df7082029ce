"""run_handler: a Client with SIGTERM/SIGINT handling, for a handler's main."""
from __future__ import annotations

import logging
import signal
import threading
from typing import List, Optional

from .client import Client
from .options import Options
from .outcomes import Handler

log = logging.getLogger("kafka_sidecar_client")

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_handler(handler: Handler, target: Optional[str] = None,
                options: Optional[Options] = None, *, handle_signals: bool = True) -> str:
    """Runs ``handler`` until the sidecar drains ('drained') or, with
    ``handle_signals``, SIGTERM or SIGINT arrives ('stopped'): either way the
    batches held are handled and settled, the stream is closed, and this
    returns, so the process can exit 0. A second signal is not caught, so it
    ends the process at once. ``target`` None = $SIDECAR_ADDRESS, else
    127.0.0.1:50051; the handler name is $HANDLER_NAME unless
    ``options.handler_name`` is set. Signal handling needs the main thread;
    pass ``handle_signals=False`` elsewhere. Raises what the client raised."""
    if handle_signals and threading.current_thread() is not threading.main_thread():
        raise RuntimeError("run_handler(handle_signals=True) must be called from the main "
                           "thread (Python delivers signals there)")
    client = Client(handler, target, options)
    outcome: List[str] = []
    failure: List[BaseException] = []

    def run():
        try:
            outcome.append(client.run())
        except BaseException as e:  # noqa: BLE001 - re-raised on the caller's thread
            failure.append(e)

    previous = {}

    def on_signal(signum, _frame):
        _restore(previous)
        client.stop()
        # Logged once stop() took effect: from here no new batch is started.
        log.info("signal %d: settling what is held and stopping", signum)

    if handle_signals:
        for s in _SIGNALS:
            previous[s] = signal.signal(s, on_signal)
    # The client runs on its own thread so the main thread, which Python
    # runs signal handlers on, never blocks inside gRPC.
    # Daemon: an exception escaping below must end the process, not wait for it.
    t = threading.Thread(target=run, name="sidecar-client", daemon=True)
    t.start()
    try:
        t.join()
    except BaseException:
        # With our handlers in place this is a second signal: leave at once.
        # Without them, a KeyboardInterrupt still settles what is held first.
        if not handle_signals:
            client.stop()
            t.join()
        raise
    finally:
        _restore(previous)
    if failure:
        raise failure[0]
    log.info("done (%s): %s", outcome[0], client.stats.snapshot())
    return outcome[0]


def _restore(previous):
    while previous:
        s, handler = previous.popitem()
        signal.signal(s, handler if handler is not None else signal.SIG_DFL)
