"""One background thread for the executor's ship calls, so bookkeeping overlaps UPS's answer.

While UPS works on row n+1, the executor records row n (phase B) in its own
thread, once row n+1's request has left (``wait_until_sent``): started any
earlier, that work would hold the request back. (After a token refresh, the
request that signals is the token's.) The wait is short and bounded: a
request that cannot leave at once (connection retries, a slow handshake)
must not keep a shipped row unrecorded. The calls themselves still
run one after another: the thread holds at most one call, and the executor
starts it only after the previous call succeeded. The thread never touches
the database on purpose; should a token refresh reach the shared cache (the
database cache by default), the connection that opened is closed when the
call ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connections

from ups.sent_signal import signal_when_sent

SENT_WAIT_SECONDS = 0.1  # the longest the executor holds back recording for a request


def _run[Result](call: Callable[[], Result], sent: threading.Event) -> Result:
    try:
        with signal_when_sent(sent):
            return call()
    finally:
        connections.close_all()


class CallThread:
    """Runs one call at a time in the background; leaving the ``with`` block waits for it."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ship-call")
        self._sent = threading.Event()

    def start[Result](self, call: Callable[[], Result]) -> Future[Result]:
        """Start ``call`` in the background and return its future."""
        self._sent = threading.Event()
        return self._pool.submit(_run, call, self._sent)

    def wait_until_sent(self) -> None:
        """Wait until the current call has written its request or ended: at most a moment."""
        self._sent.wait(SENT_WAIT_SECONDS)

    def __enter__(self) -> CallThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True)
