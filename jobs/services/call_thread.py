"""One background thread for the executor's ship calls, so bookkeeping overlaps UPS's answer.

While UPS works on row n+1, the executor records row n (phase B) in its own
thread. The calls themselves still run one after another: the thread holds at
most one call, and the executor starts it only after the previous call
succeeded. The thread never touches the database on purpose; should a token
refresh reach the shared cache (the database cache by default), the
connection that opened is closed when the call ends.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connections


def _closing_connections[Result](call: Callable[[], Result]) -> Result:
    try:
        return call()
    finally:
        connections.close_all()


class CallThread:
    """Runs one call at a time in the background; leaving the ``with`` block waits for it."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ship-call")

    def start[Result](self, call: Callable[[], Result]) -> Future[Result]:
        """Start ``call`` in the background and return its future."""
        return self._pool.submit(_closing_connections, call)

    def __enter__(self) -> CallThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True)
