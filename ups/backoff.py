"""How long to wait before retrying a call without side effects."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for (delay or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_delay(
    attempt: int, *, base: float, max_wait: float, retry_after: float | None = None
) -> float | None:
    """Return the wait before retry number ``attempt`` (0-based), or None to give up.

    Exponential backoff with "equal jitter" (half fixed, half random), so that
    clients that failed together do not retry together; a ``Retry-After`` from
    UPS is a floor. A wait longer than ``max_wait`` is not worth holding a
    worker for: the caller gives up and reports the error.
    """
    exponential = min(max_wait, base * (2**attempt))
    delay = exponential / 2 + random.uniform(0, exponential / 2)  # noqa: S311 (not crypto)
    if retry_after is not None:
        if retry_after > max_wait:
            return None
        delay = max(delay, retry_after)
    return delay
