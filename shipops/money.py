"""Money is integer cents with a currency (STYLE.md item 9); this turns it into words."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "EUR": "€", "GBP": "£"}


def format_cents(cents: int | None, currency: str = "USD") -> str:
    """Return ``1234, "USD"`` as ``$12.34``; unknown currencies keep their code."""
    if cents is None:
        return "-"
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    symbol = CURRENCY_SYMBOLS.get(currency)
    amount = f"{whole:,}.{part:02d}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def cents_from_decimal_string(value: str) -> int:
    """Return ``"12.345"`` as 1235 cents (half up), raising ValueError on anything else."""
    try:
        amount = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"{value!r} is not an amount of money") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount of money")
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
