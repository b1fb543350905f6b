"""The dataclasses refuse impossible values; tracking numbers carry a valid check digit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.ups.conftest import shipment
from ups.tracking_numbers import check_digit, is_valid_tracking_number, make_tracking_number
from ups.types import Package, ShipResult


def test_a_reference_has_one_to_35_characters() -> None:
    with pytest.raises(ValueError, match="1 to 35 characters, not 36"):
        shipment("R" * 36)
    with pytest.raises(ValueError, match="not 0"):
        shipment("")


def test_a_package_has_a_weight_and_all_dimensions_or_none() -> None:
    with pytest.raises(ValueError, match="more than 0 lb"):
        Package(Decimal("0"))
    with pytest.raises(ValueError, match="all three package dimensions"):
        Package(Decimal("1"), length_in=Decimal("5"))


def test_a_ship_result_repr_leaves_the_label_out() -> None:
    result = ShipResult("1Z", "1Z", 100, "USD", "GIF", b"GIF89a" + b"x" * 5000)

    assert "5006 bytes" in repr(result)
    assert "xxxx" not in repr(result)


def test_the_contract_example_check_digit() -> None:
    assert check_digit("999AA1012345678") == 4
    assert is_valid_tracking_number("1Z999AA10123456784")
    assert not is_valid_tracking_number("1Z999AA10123456785")
    assert not is_valid_tracking_number("1Z12345E8791315509")  # UPS's own void sample


def test_generated_numbers_are_valid() -> None:
    numbers = [make_tracking_number("A1B2C3", "03", package) for package in range(1000, 1100)]

    assert all(is_valid_tracking_number(number) for number in numbers)
    assert numbers[0] == "1ZA1B2C3030001000" + str(check_digit("A1B2C3030001000"))
