"""The OAuth token: fetched once, shared through Django's cache, refreshed when needed."""

from __future__ import annotations

import time

from django.core.cache import cache

from tests.fixtures.ups_sandbox import SANDBOX_CLIENT_SECRET, SandboxController
from tests.ups.conftest import shipment
from ups import auth
from ups.client import UpsClient
from ups.config import UpsConfig


def forget_process_memory() -> None:
    """Drop this process's copies, as another process that never held the token would."""
    with auth._memory_lock:
        auth._memory.clear()


def test_one_token_serves_many_calls_and_clients(ups_sandbox: SandboxController) -> None:
    first, second = UpsClient(), UpsClient()

    first.rate(shipment())
    first.validate_address(shipment().ship_to)
    second.rate(shipment())

    assert ups_sandbox.calls("token") == 1


def test_the_token_is_shared_through_the_django_cache(ups_sandbox: SandboxController) -> None:
    UpsClient().rate(shipment())
    stored = cache.get(UpsConfig.from_settings().token_cache_key)
    forget_process_memory()

    UpsClient().rate(shipment())

    assert ups_sandbox.calls("token") == 1
    assert set(stored) == {"value", "refresh_at"}
    assert stored["refresh_at"] > time.time()


def test_the_cache_key_names_the_environment_and_never_the_secret() -> None:
    config = UpsConfig.from_settings()

    assert config.token_cache_key.startswith("ups:token:sandbox:")
    assert SANDBOX_CLIENT_SECRET not in config.token_cache_key
    assert config.client_id not in config.token_cache_key


def test_a_token_is_refreshed_shortly_before_it_expires(ups_sandbox: SandboxController) -> None:
    ups_sandbox.configure(token_ttl=1)  # refreshed a tenth of its life early: after 0.9 s
    client = UpsClient()
    client.rate(shipment())

    time.sleep(1.0)
    client.rate(shipment())

    assert ups_sandbox.calls("token") == 2
    assert [call["endpoint"] for call in ups_sandbox.requests("rate")] == ["rate", "rate"]


def test_a_401_fetches_one_new_token_and_retries_once(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    client.rate(shipment())
    ups_sandbox.revoke_tokens()  # the cached token expired at UPS before we knew

    quote = client.ship(shipment())

    assert quote.tracking_number
    assert ups_sandbox.calls("token") == 2
    assert ups_sandbox.calls("ship") == 2
    assert len(ups_sandbox.ledger()) == 1


def test_an_expired_token_fault_is_survived_by_a_refresh(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    ups_sandbox.set_fault("expired_token", endpoint="rate", count=1)

    assert client.rate(shipment()).total_cents > 0
    assert ups_sandbox.calls("token") == 2


def test_clear_cached_tokens_forgets_memory_and_cache(ups_sandbox: SandboxController) -> None:
    UpsClient().rate(shipment())

    auth.clear_cached_tokens()
    UpsClient().rate(shipment())

    assert cache.get(UpsConfig.from_settings().token_cache_key) is not None
    assert ups_sandbox.calls("token") == 2


def test_a_refused_token_put_back_in_the_cache_is_not_taken_for_a_fresh_one(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    client.rate(shipment())
    key = UpsConfig.from_settings().token_cache_key
    refused = cache.get(key)
    ups_sandbox.revoke_tokens()
    # Another thread or process read the old token from the cache before it was
    # forgotten, and stored it again: the retry after the 401 must not use it.
    real_invalidate = client.tokens.invalidate

    def invalidate_then_put_back(value: str) -> None:
        real_invalidate(value)
        cache.set(key, refused)

    client.tokens.invalidate = invalidate_then_put_back  # type: ignore[method-assign]

    assert client.rate(shipment()).total_cents > 0
    assert ups_sandbox.calls("token") == 2
