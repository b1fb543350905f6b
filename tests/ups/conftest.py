from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from tests.fixtures.ups_sandbox import SandboxController
from ups.client import UpsClient, ship_from_address
from ups.types import Address, Package, ShipmentRequest

RECIPIENT = Address(
    name="John Doe",
    address_lines=("123 Main St", "Apt 4"),
    city="Springfield",
    state="IL",
    postal_code="62701",
    country="US",
    phone="217-555-0101",
    residential=True,
)


def shipment(reference: str = "ROW-1", **changes: Any) -> ShipmentRequest:
    """Return a US ground shipment from the configured warehouse to RECIPIENT."""
    request = ShipmentRequest(
        ship_from=ship_from_address(),
        ship_to=RECIPIENT,
        service_code="03",
        package=Package(Decimal("5.2"), Decimal("10"), Decimal("8"), Decimal("6")),
        reference=reference,
    )
    return replace(request, **changes)


@pytest.fixture
def client(ups_sandbox: SandboxController) -> Iterator[UpsClient]:
    """A client built from the settings the sandbox fixture set."""
    ups_client = UpsClient()
    yield ups_client
    ups_client.close()
