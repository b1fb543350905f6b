"""Everything one sandbox holds: ledger, faults, tokens, the request log and its settings."""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from typing import Any

from ups.sandbox.exchange import SandboxRequest
from ups.sandbox.faults import Fault, FaultBook
from ups.sandbox.ledger import Ledger

DEFAULT_TOKEN_TTL = 14399  # what UPS answers, in seconds
REQUEST_LOG_SIZE = 1000


class TokenRegistry:
    """The bearer tokens the sandbox issued and when each one expires."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, ttl: int) -> str:
        """Return a new token valid for ``ttl`` seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._expiry[token] = time.time() + ttl
        return token

    def is_valid(self, token: str) -> bool:
        """Return True for a token issued here and not expired or revoked."""
        with self._lock:
            return self._expiry.get(token, 0.0) > time.time()

    def revoke(self, token: str | None = None) -> None:
        """Revoke one token, or every token when none is named."""
        with self._lock:
            if token is None:
                self._expiry.clear()
            else:
                self._expiry.pop(token, None)


class RequestLog:
    """The last requests the sandbox answered (never a token or a secret) and counts."""

    def __init__(self) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, endpoint: str, request: SandboxRequest) -> None:
        """Remember one call to ``endpoint``."""
        item = {
            "endpoint": endpoint,
            "method": request.method,
            "path": request.path,
            "trans_id": request.header("transId"),
            "transaction_src": request.header("transactionSrc"),
            "authorized": bool(request.header("Authorization")),
        }
        with self._lock:
            self._items.append(item)
            self._counts[endpoint] += 1

    def items(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """Return the remembered calls, oldest first, optionally of one endpoint."""
        with self._lock:
            return [item for item in self._items if endpoint in (None, item["endpoint"])]

    def counts(self) -> dict[str, int]:
        """Return how many calls each endpoint had."""
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        """Forget every call."""
        with self._lock:
            self._items.clear()
            self._counts.clear()


@dataclass
class SandboxState:
    """The sandbox's data; ``reset()`` brings it back to how it started."""

    credentials: tuple[str, str] | None = None
    token_ttl: int = DEFAULT_TOKEN_TTL
    initial_faults: tuple[Fault, ...] = ()
    ledger: Ledger = field(default_factory=Ledger)
    faults: FaultBook = field(default_factory=FaultBook)
    tokens: TokenRegistry = field(default_factory=TokenRegistry)
    log: RequestLog = field(default_factory=RequestLog)

    def __post_init__(self) -> None:
        self._initial_ttl = self.token_ttl
        self._wake = threading.Event()
        self._install_initial_faults()

    def _install_initial_faults(self) -> None:
        for fault in self.initial_faults:
            self.faults.add(replace(fault, id=0, seen=0, fired=0))

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``; a reset or a stop ends the wait early."""
        if seconds > 0:
            self._wake.wait(seconds)

    def release_waiters(self) -> None:
        """End every wait in progress (held answers, latency)."""
        wake, self._wake = self._wake, threading.Event()
        wake.set()

    def reset(self) -> None:
        """Forget shipments, faults, tokens and calls; keep the starting faults."""
        self.ledger.clear()
        self.faults.clear()
        self.tokens.revoke()
        self.log.clear()
        self.token_ttl = self._initial_ttl
        self.release_waiters()
        self._install_initial_faults()
