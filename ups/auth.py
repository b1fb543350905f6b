"""The OAuth client-credentials token, shared by every process through Django's cache.

A token is used until shortly before UPS says it expires. Each process keeps
a copy in memory so that a UPS call costs no cache round trip; the shared
cache is read when the copy is missing, so several processes use one token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.views.decorators.debug import sensitive_variables
from requests.auth import HTTPBasicAuth

from ups.answers import MalformedAnswer, dig, text
from ups.config import UpsConfig
from ups.credentials import Masked
from ups.errors import UpsAuthError
from ups.transport import HttpCall, Transport

logger = logging.getLogger("ups")
EXPIRY_MARGIN_SECONDS = 60.0

REFUSED_KEPT = 8  # refused tokens remembered per cache key

_memory: dict[str, CachedToken] = {}
# Tokens UPS refused (401), never handed out again by this process: another thread
# may put one back between the two forgettings of ``invalidate``, or another
# process may store it in the shared cache again before it saw the 401 itself.
_refused: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=REFUSED_KEPT))
_memory_lock = threading.Lock()


@dataclass(frozen=True)
class CachedToken:
    """A bearer token and the moment (epoch seconds) to stop using it."""

    value: str = field(repr=False)
    refresh_at: float

    def usable(self) -> bool:
        """Return True while the token is not too close to its expiry."""
        return time.time() < self.refresh_at


def parse_token(body: Any) -> CachedToken:
    """Read UPS's token answer; the margin is a minute, or a tenth of a short lifetime."""
    value = Masked(text(body, "access_token"))
    raw_lifetime = dig(body, "expires_in")
    try:
        lifetime = float(raw_lifetime)
    except (TypeError, ValueError):
        raise MalformedAnswer("expires_in is not a number of seconds") from None
    if not value or lifetime <= 0:
        raise MalformedAnswer("the token or its lifetime is empty")
    margin = min(EXPIRY_MARGIN_SECONDS, lifetime / 10)
    return CachedToken(value=value, refresh_at=time.time() + lifetime - margin)


def clear_cached_tokens(config: UpsConfig | None = None) -> None:
    """Forget every token held in this process and the shared token of ``config``."""
    with _memory_lock:
        _memory.clear()
        _refused.clear()
    cache.delete((config or UpsConfig.from_settings()).token_cache_key)


class TokenProvider:
    """Hands out a valid bearer token, fetching one only when none is cached."""

    def __init__(self, config: UpsConfig, transport: Transport) -> None:
        self.config = config
        self.transport = transport
        self.key = config.token_cache_key
        self._fetch_lock = threading.Lock()

    @sensitive_variables()
    def get(self) -> str:
        """Return a bearer token, from memory, the shared cache or UPS, in that order."""
        token = self._cached()
        if token is None:
            with self._fetch_lock:  # one fetch per process, however many threads wait
                token = self._cached()
                if token is None:
                    token = self._fetch()
                    self._remember(token)
        return token.value

    @sensitive_variables()
    def invalidate(self, value: str) -> None:
        """Forget ``value`` (UPS refused it) unless another caller already replaced it.

        It is never handed out again, wherever a copy of it turns up.
        """
        with _memory_lock:
            if value not in _refused[self.key]:
                _refused[self.key].append(value)
            held = _memory.get(self.key)
            if held is not None and held.value == value:
                del _memory[self.key]
        shared = self._shared()
        if shared is not None and shared.value == value:
            self._cache_call(cache.delete, self.key)

    @sensitive_variables()
    def in_memory(self) -> str | None:
        """Return the usable token this process holds, without asking the cache or UPS."""
        token = self._in_memory()
        return None if token is None else token.value

    def _in_memory(self) -> CachedToken | None:
        with _memory_lock:
            token = _memory.get(self.key)
            return token if token is not None and self._good(token) else None

    def _cached(self) -> CachedToken | None:
        token = self._in_memory()
        if token is not None:
            return token
        token = self._shared()
        with _memory_lock:
            if token is not None and self._good(token):
                _memory[self.key] = token
                return token
        return None

    def _good(self, token: CachedToken) -> bool:
        """Usable, and not refused by UPS; call with ``_memory_lock`` held."""
        return token.usable() and token.value not in _refused[self.key]

    @sensitive_variables()
    def _shared(self) -> CachedToken | None:
        raw = self._cache_call(cache.get, self.key)
        if not isinstance(raw, dict):
            return None
        try:
            return CachedToken(value=Masked(raw["value"]), refresh_at=float(raw["refresh_at"]))
        except (KeyError, TypeError, ValueError):
            return None

    @sensitive_variables()
    def _remember(self, token: CachedToken) -> None:
        with _memory_lock:
            _memory[self.key] = token
        seconds = max(1, int(token.refresh_at - time.time()))
        value = {"value": str.__str__(token.value), "refresh_at": token.refresh_at}
        self._cache_call(cache.set, self.key, value, seconds)

    def _cache_call(self, method: Any, *args: Any) -> Any:
        # A broken shared cache must not stop shipping: the token then lives in memory only.
        try:
            return method(*args)
        except Exception as exc:
            logger.warning(
                "The shared cache failed (%s); the UPS token is kept in this process only.",
                type(exc).__name__,
            )
            return None

    @sensitive_variables()
    def _fetch(self) -> CachedToken:
        config = self.config
        if not (config.client_id and config.client_secret):
            raise UpsAuthError(
                "UPS_NOT_CONFIGURED",
                f"UPS credentials are not configured for UPS_ENV={config.environment}: "
                "set UPS_CLIENT_ID and UPS_CLIENT_SECRET in the environment.",
            )
        headers = {"x-merchant-id": config.shipper_number} if config.shipper_number else {}
        call = HttpCall(
            what="token request",
            method="POST",
            url=config.token_url,
            form={"grant_type": "client_credentials"},
            headers=headers,
            credentials=HTTPBasicAuth(config.client_id, Masked(config.client_secret)),
        )
        token = self.transport.perform(call, parse_token)
        logger.info("Fetched a new UPS access token for UPS_ENV=%s.", config.environment)
        return token
