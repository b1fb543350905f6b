"""The sandbox keeps up with the batch engine's preview: 8 concurrent rating calls."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.fixtures.ups_sandbox import SandboxController
from tests.ups.conftest import shipment
from ups.client import get_client

CALLS = 40


def test_eight_concurrent_raters_get_more_than_20_answers_a_second(
    ups_sandbox: SandboxController,
) -> None:
    client = get_client()
    client.rate(shipment())  # the token, fetched once before the pool starts
    ups_sandbox.set_fault("latency", ms=50)
    started = time.monotonic()

    with ThreadPoolExecutor(max_workers=8) as pool:
        quotes = list(pool.map(lambda n: client.rate(shipment(f"ROW-{n}")), range(CALLS)))

    elapsed = time.monotonic() - started
    assert len({quote.total_cents for quote in quotes}) == 1
    assert CALLS / elapsed > 20
    assert ups_sandbox.calls("token") == 1
