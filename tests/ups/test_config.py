"""Environments, hosts and the shared client."""

from __future__ import annotations

import pytest
from django.conf import LazySettings

from ups.client import get_client, ship_from_address
from ups.config import UpsConfig


@pytest.mark.parametrize(
    ("environment", "host"),
    [
        ("cie", "https://wwwcie.ups.com"),
        ("production", "https://onlinetools.ups.com"),
    ],
)
def test_cie_and_production_use_ups_official_hosts(
    settings: LazySettings, environment: str, host: str
) -> None:
    settings.UPS_ENV = environment

    config = UpsConfig.from_settings()

    assert config.token_url == f"{host}/security/v1/oauth/token"
    assert config.api_url == f"{host}/api"


def test_the_sandbox_is_the_default_and_uses_its_url(settings: LazySettings) -> None:
    settings.UPS_SANDBOX_URL = "http://127.0.0.1:9999/"

    config = UpsConfig.from_settings()

    assert config.environment == "sandbox"
    assert config.token_url == "http://127.0.0.1:9999/security/v1/oauth/token"
    assert config.timeout == (settings.UPS_CONNECT_TIMEOUT, settings.UPS_READ_TIMEOUT)


def test_overrides_win_and_mistakes_are_named() -> None:
    assert UpsConfig.from_settings(read_timeout=0.5).read_timeout == 0.5
    with pytest.raises(ValueError, match="UPS_ENV='staging' is not known"):
        UpsConfig.from_settings(environment="staging")
    with pytest.raises(TypeError, match="Unknown UPS settings: colour"):
        UpsConfig.from_settings(colour="red")


def test_the_secret_is_not_in_the_config_repr(settings: LazySettings) -> None:
    settings.UPS_CLIENT_SECRET = "very-secret-value"

    assert "very-secret-value" not in repr(UpsConfig.from_settings())


def test_the_shared_client_follows_the_settings(settings: LazySettings) -> None:
    first = get_client()

    assert get_client() is first
    settings.UPS_READ_TIMEOUT = 7.0
    assert get_client() is not first
    assert get_client().config.read_timeout == 7.0


def test_ship_from_comes_from_settings(settings: LazySettings) -> None:
    settings.UPS_SHIP_FROM = {
        "name": "Warehouse 2",
        "phone": "5550100",
        "address_line": "1 Dock Rd",
        "city": "Reno",
        "state": "NV",
        "postal_code": "89501",
        "country": "US",
    }

    address = ship_from_address()

    assert (address.name, address.address_lines, address.city) == (
        "Warehouse 2",
        ("1 Dock Rd",),
        "Reno",
    )
    assert (address.state, address.postal_code, address.country) == ("NV", "89501", "US")


def test_the_longest_ship_call_is_its_send_deadline_and_one_call() -> None:
    config = UpsConfig.from_settings(
        connect_timeout=5.0,
        read_timeout=30.0,
        max_retries=3,
        retry_max_wait=30.0,
        ship_send_seconds=60.0,
    )
    # Retries, token fetches and a 401's second round all happen within the 60 s after
    # phase A or are not sent; the last request sent may take a connect and a read timeout;
    # 10 s more for clocks that differ between machines and UPS finishing its work.
    assert config.longest_ship_call_seconds() == 105.0
