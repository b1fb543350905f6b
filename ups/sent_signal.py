"""Know the moment a request has left for UPS, before its answer comes back.

The executor records the previous row only once the next ship request is on
the wire: recording earlier competes with the call thread for the CPU and the
interpreter just while that request is being built and written, which
measurably delays every call (docs/performance.md). A thread asks with
``signal_when_sent(event)``; the connections of ``SignallingAdapter`` set the
event as soon as a request has been written (or writing it failed), and
leaving the block sets it in any case, so a call that sends nothing (a
refused connection, an error before sending) never leaves anyone waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import poolmanager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_waiting = threading.local()  # .event: the Event of this thread's call, if one waits


@contextmanager
def signal_when_sent(event: threading.Event) -> Iterator[None]:
    """Set ``event`` once this thread has written its first request, or on leaving."""
    _waiting.event = event
    try:
        yield
    finally:
        _waiting.event = None
        event.set()


def _request_written() -> None:
    event = getattr(_waiting, "event", None)
    if event is not None:
        event.set()


class _SignallingHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().request(*args, **kwargs)
        finally:  # written, or failed to write: either way nothing is left to wait for
            _request_written()


class _SignallingHTTPSConnection(_SignallingHTTPConnection, HTTPSConnection):
    """HTTPS, with the same ``request`` (HTTPSConnection does not change it)."""


class _SignallingHTTPPool(HTTPConnectionPool):
    ConnectionCls = _SignallingHTTPConnection


class _SignallingHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _SignallingHTTPSConnection


SIGNALLING_POOLS: dict[str, type[HTTPConnectionPool]] = {
    "http": _SignallingHTTPPool,
    "https": _SignallingHTTPSPool,
}


def _signalling(manager: Any) -> Any:
    # Only pools urllib3 would build by default are swapped; a SOCKS proxy
    # manager keeps its own, and its calls signal when they end instead.
    if manager.pool_classes_by_scheme is poolmanager.pool_classes_by_scheme:
        manager.pool_classes_by_scheme = SIGNALLING_POOLS
    return manager


class SignallingAdapter(HTTPAdapter):
    """requests' HTTP adapter, with connections that say when a request has been written."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        _signalling(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        return _signalling(super().proxy_manager_for(proxy, **proxy_kwargs))
