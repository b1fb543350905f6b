"""Where UPS is and who we are to it, read from Django settings when a client is built."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from typing import Any

from django.conf import settings

# CONTRACT.md "Hosts and auth": API paths sit under /api, the token endpoint does not.
UPS_HOSTS = {
    "cie": "https://wwwcie.ups.com",
    "production": "https://onlinetools.ups.com",
}
ENVIRONMENTS = ("sandbox", "cie", "production")
TOKEN_PATH = "/security/v1/oauth/token"  # noqa: S105 (a URL path, not a password)
# Added to the longest ship call: the clocks of the worker and the web server may
# differ a little, and UPS may still be finishing a request as the read times out.
SETTLE_SECONDS = 10.0


@dataclass(frozen=True)
class UpsConfig:
    """Everything one client needs; the secret never appears in its repr."""

    environment: str
    host: str
    client_id: str
    client_secret: str = field(repr=False)
    shipper_number: str
    transaction_src: str
    connect_timeout: float
    read_timeout: float
    max_retries: int
    retry_backoff: float
    retry_max_wait: float
    # A ship request is sent no later than this after its row was marked in flight.
    ship_send_seconds: float

    def longest_ship_call_seconds(self) -> float:
        """Return the longest a ship call may take from its row's phase A to UPS's last answer.

        ``UpsClient.send_ship`` sends no attempt later than ``ship_send_seconds``
        after phase A (a token fetched first, a 401's new token, a connection
        that never opened tried again: whatever is late is not sent), and
        the last one sent may take a connect and a read timeout; then
        ``SETTLE_SECONDS`` more. Until this long after a ship request started,
        UPS may still create the shipment. Every process must share the
        ``UPS_*`` settings: the web server judges the workers' calls by its own.
        """
        call = self.ship_send_seconds + self.connect_timeout + self.read_timeout
        return call + SETTLE_SECONDS

    @classmethod
    def from_settings(cls, **overrides: Any) -> UpsConfig:
        """Build the configuration from ``settings.UPS_*``; keyword arguments win."""
        environment = overrides.get("environment", settings.UPS_ENV)
        if environment not in ENVIRONMENTS:
            raise ValueError(
                f"UPS_ENV={environment!r} is not known; use sandbox, cie or production."
            )
        host = settings.UPS_SANDBOX_URL if environment == "sandbox" else UPS_HOSTS[environment]
        values: dict[str, Any] = {
            "environment": environment,
            "host": host.rstrip("/"),
            "client_id": settings.UPS_CLIENT_ID,
            "client_secret": settings.UPS_CLIENT_SECRET,
            "shipper_number": settings.UPS_SHIPPER_NUMBER,
            "transaction_src": settings.UPS_TRANSACTION_SRC,
            "connect_timeout": settings.UPS_CONNECT_TIMEOUT,
            "read_timeout": settings.UPS_READ_TIMEOUT,
            "max_retries": settings.UPS_MAX_RETRIES,
            "retry_backoff": settings.UPS_RETRY_BACKOFF,
            "retry_max_wait": settings.UPS_RETRY_MAX_WAIT,
            "ship_send_seconds": settings.UPS_SHIP_SEND_SECONDS,
        }
        known = {item.name for item in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"Unknown UPS settings: {', '.join(sorted(unknown))}.")
        values.update(overrides)
        return cls(**values)

    @property
    def api_url(self) -> str:
        """Return the root of the JSON APIs (``https://host/api``)."""
        return f"{self.host}/api"

    @property
    def token_url(self) -> str:
        """Return the OAuth token endpoint."""
        return f"{self.host}{TOKEN_PATH}"

    @property
    def timeout(self) -> tuple[float, float]:
        """Return ``(connect, read)`` seconds for requests."""
        return (self.connect_timeout, self.read_timeout)

    @property
    def token_cache_key(self) -> str:
        """Return the shared cache key of this account's token (a hash, never the secret)."""
        digest = hashlib.sha256(f"{self.host}\n{self.client_id}".encode()).hexdigest()[:32]
        return f"ups:token:{self.environment}:{digest}"
