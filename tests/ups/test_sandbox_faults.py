"""Fault injection and the control API of the sandbox."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.fixtures.ups_sandbox import SandboxController
from tests.ups.conftest import RECIPIENT, shipment
from ups.client import UpsClient
from ups.sandbox import server
from ups.sandbox.faults import Fault, FaultBook, faults_from_environ


def test_fixed_latency_applies_to_every_endpoint(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    client.rate(shipment())  # the token is fetched before timing
    ups_sandbox.set_fault("latency", ms=150)
    started = time.monotonic()

    client.rate(shipment())
    client.validate_address(RECIPIENT)

    assert time.monotonic() - started >= 0.3


def test_random_latency_stays_in_its_range(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    client.rate(shipment())
    ups_sandbox.set_fault("latency", endpoint="rate", min_ms=100, max_ms=200)
    started = time.monotonic()

    client.rate(shipment())

    assert 0.1 <= time.monotonic() - started < 1.0


@pytest.mark.parametrize(("latency_ms", "work_ms"), [(300, 200), (100, 250)])
def test_latency_counts_from_the_request_including_the_sandboxs_own_work(
    client: UpsClient,
    ups_sandbox: SandboxController,
    monkeypatch: pytest.MonkeyPatch,
    latency_ms: int,
    work_ms: int,
) -> None:
    # UPS's latency includes its processing: the answer leaves max(L, work) after the request.
    client.rate(shipment())
    slow_work = server.handle

    def handle(*args: Any) -> Any:
        time.sleep(work_ms / 1000)
        return slow_work(*args)

    monkeypatch.setattr(server, "handle", handle)
    ups_sandbox.set_fault("latency", ms=latency_ms)
    started = time.monotonic()

    client.rate(shipment())

    expected = max(latency_ms, work_ms) / 1000
    assert expected <= time.monotonic() - started < expected + 0.09


def test_a_fault_fires_after_and_count_calls_then_disappears() -> None:
    book = FaultBook()
    book.add(Fault(kind="http_500", endpoint="ship", after=1, count=2))

    fired = [book.draw("ship").fault is not None for _ in range(5)]

    assert fired == [False, True, True, False, False]
    assert book.as_list() == []
    assert book.draw("rate").fault is None


def test_latencies_add_up_and_the_first_armed_fault_wins() -> None:
    book = FaultBook()
    book.add(Fault(kind="latency", ms=10))
    book.add(Fault(kind="latency", endpoint="rate", ms=20))
    book.add(Fault(kind="http_503", endpoint="rate"))
    book.add(Fault(kind="http_500", count=1))

    plan = book.draw("rate")

    assert plan.latency == pytest.approx(0.03)
    assert plan.fault is not None
    assert plan.fault.kind == "http_503"
    assert len(book.as_list()) == 4  # the 500 did not fire, so it was not spent


def test_expired_token_never_hits_the_token_endpoint() -> None:
    book = FaultBook()
    book.add(Fault(kind="expired_token"))

    assert book.draw("token").fault is None
    assert book.draw("track").fault is not None


def test_the_control_api_refuses_bad_faults_with_a_reason(
    ups_sandbox: SandboxController,
) -> None:
    for fault, reason in [
        ({"kind": "meteor"}, "is not one of"),
        ({"kind": "http_500", "endpoint": "pickup"}, "Endpoint 'pickup'"),
        ({"kind": "http_500", "count": 0}, "'count' is at least 1"),
        ({"kind": "reject_address"}, "needs 'postal_codes' or 'address_lines'"),
        ({"kind": "latency", "colour": "red"}, "Unknown fault fields: colour"),
        ({"endpoint": "rate"}, "needs a 'kind'"),
    ]:
        answer = requests.post(f"{ups_sandbox.url}/__sandbox/faults", json=fault, timeout=5)
        assert answer.status_code == 400
        assert reason in answer.json()["error"]


def test_faults_are_listed_removed_and_reset(ups_sandbox: SandboxController) -> None:
    first = ups_sandbox.set_fault("http_503", endpoint="track")
    ups_sandbox.set_fault("latency", ms=5)

    removed = requests.delete(f"{ups_sandbox.url}/__sandbox/faults/{first['id']}", timeout=5)
    kinds = [fault["kind"] for fault in ups_sandbox.faults()]
    ups_sandbox.reset()

    assert removed.json() == {"removed": True}
    assert kinds == ["latency"]
    assert ups_sandbox.faults() == []


def test_reset_forgets_shipments_and_calls(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    client.ship(shipment())

    ups_sandbox.reset()

    assert ups_sandbox.ledger() == []
    assert ups_sandbox.requests() == []


def test_the_rejected_address_gets_no_candidates_from_xav(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    ups_sandbox.set_fault("reject_address", postal_codes=["627"], endpoint="xav")

    assert client.validate_address(RECIPIENT).indicator == "no_candidates"


def test_unknown_control_paths_are_404(ups_sandbox: SandboxController) -> None:
    answer = requests.get(f"{ups_sandbox.url}/__sandbox/nothing", timeout=5)

    assert answer.status_code == 404
    assert "No control endpoint" in answer.json()["error"]


def test_environment_variables_describe_faults() -> None:
    faults = faults_from_environ(
        {
            "UPS_SANDBOX_LATENCY_MS": "20-80",
            "UPS_SANDBOX_REJECT_POSTAL_CODES": "90210, 10001",
            "UPS_SANDBOX_REJECT_ADDRESSES": "1 Bad St;2 Worse Ave",
            "UPS_SANDBOX_FAULTS": '[{"kind": "timeout_after_ship", "after": 2, "count": 1}]',
        }
    )

    assert [(fault.kind, fault.endpoint) for fault in faults] == [
        ("latency", "*"),
        ("reject_address", "*"),
        ("timeout_after_ship", "ship"),
    ]
    assert (faults[0].min_ms, faults[0].max_ms) == (20, 80)
    assert faults[1].postal_codes == ["90210", "10001"]
    assert faults[1].address_lines == ["1 Bad St", "2 Worse Ave"]
    assert faults_from_environ({"UPS_SANDBOX_LATENCY_MS": "50"})[0].ms == 50
    assert faults_from_environ({}) == []


@pytest.mark.parametrize(
    "environ",
    [{"UPS_SANDBOX_LATENCY_MS": "fast"}, {"UPS_SANDBOX_FAULTS": "[{"}],
)
def test_bad_environment_variables_are_explained(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="UPS_SANDBOX_"):
        faults_from_environ(environ)
