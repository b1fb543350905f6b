"""Whole batches driven through the API, with the UPS sandbox over HTTP and real files.

The API queues django-q2 tasks on commit; here the test runs each task's body
itself with the token the API handed over, as the cluster would.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings

from datasources.models import DataSource
from jobs.models import Job, JobRow
from jobs.services.execution import job_execute
from jobs.services.preview import job_preview_run
from tests.fixtures.sources import order_rows
from tests.fixtures.ups_sandbox import SANDBOX_CLIENT_SECRET, SandboxController
from tests.jobs.api.conftest import make_job
from tests.jobs.api.contract import ApiClient
from tests.jobs.conftest import read_csv

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def run_queued(job_id: int, task: Callable[..., None], queued: list[Any]) -> None:
    """Run the task the API queued for ``job_id`` (one callback), as a worker would."""
    assert len(queued) == 1
    task(job_id=job_id, token=Job.objects.get(pk=job_id).fencing_token)


def ship(job_id: int, *, token: int) -> None:
    job_execute(job_id=job_id, token=token, slice_seconds=math.inf)


def drive(api: ApiClient, source: DataSource, capture: Capture) -> int:
    """Create, preview, approve and ship a batch through the API; return the job id."""
    job_id: int = api.post("/api/jobs/", {"source": source.pk}).json()["id"]
    with capture(execute=False) as queued:
        api.post(f"/api/jobs/{job_id}/preview")
    run_queued(job_id, job_preview_run, queued)
    with capture(execute=False) as queued:
        api.post(f"/api/jobs/{job_id}/approve")
    run_queued(job_id, ship, queued)
    return job_id


def test_a_batch_runs_from_creation_to_tracking_numbers_through_the_api(
    api: ApiClient,
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    source_root: Path,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    source = orders_csv(25)
    job_id = api.post("/api/jobs/", {"source": source.pk}).json()["id"]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        api.post(f"/api/jobs/{job_id}/preview")
    run_queued(job_id, job_preview_run, queued)

    preview = api.get(f"/api/jobs/{job_id}/preview").json()
    job = api.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "previewed"
    assert (len(preview["lines"]), preview["more"], preview["total_rows"]) == (20, 5, 25)
    assert preview["lines"][0]["recipient"] == "Customer 1"
    assert preview["lines"][0]["city_state"] == "Atlanta, GA"
    assert preview["total_estimated_cost"] == job["estimated_cost"]
    assert job["estimated_cost"]["cents"] > 0
    assert ups_sandbox.calls("ship") == 0

    with django_capture_on_commit_callbacks(execute=False) as queued:
        api.post(f"/api/jobs/{job_id}/approve")
    run_queued(job_id, ship, queued)

    progress = api.get(f"/api/jobs/{job_id}/progress").json()
    assert (progress["status"], progress["percent"], progress["shipped"]) == ("completed", 100, 25)
    rows = api.get(f"/api/jobs/{job_id}/rows", {"page_size": 200, "status": "shipped"}).json()
    by_reference = {entry["reference"]: entry["tracking_number"] for entry in ups_sandbox.ledger()}
    assert {row["reference"]: row["tracking_number"] for row in rows["results"]} == by_reference
    in_file = {line["order_id"]: line["tracking_number"] for line in read_csv(source, source_root)}
    assert in_file == {row["source_key"]: row["tracking_number"] for row in rows["results"]}


def test_a_failed_batch_is_restarted_after_voiding_its_shipments(
    api: ApiClient,
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    rows = order_rows(6)
    rows[4][5] = "30305"  # row 4: UPS rejects this postal code when shipping
    ups_sandbox.set_fault("reject_address", endpoint="ship", postal_codes=["30305"])
    job_id = drive(api, orders_csv(6, rows=rows), django_capture_on_commit_callbacks)

    recovery = api.get(f"/api/jobs/{job_id}/recovery").json()
    assert recovery["status"] == "failed"
    assert recovery["headline"].startswith(f"Job {job_id} stopped at row 4 of 6.")
    assert recovery["restart_warning"].startswith("Rows 1-3 already have tracking numbers")
    assert recovery["restart_refusal"] is None
    progress = api.get(f"/api/jobs/{job_id}/progress").json()
    assert progress["last_error"]["row_number"] == 4

    ups_sandbox.clear_faults()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post(f"/api/jobs/{job_id}/restart", {"void_first": True})
    assert response.status_code == 201
    assert len(queued) == 1
    assert [entry["voided"] for entry in ups_sandbox.ledger()] == [True] * 3
    assert api.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"
    assert response.json()["counts"]["rows"] == 6
    # The voided rows: no label to use, and no charge (UPS does not charge a void).
    voided = api.get(f"/api/jobs/{job_id}/rows", {"status": "voided"}).json()["results"]
    assert [(row["has_label"], row["actual_cost"]) for row in voided] == [(False, None)] * 3


def test_the_recovery_of_a_cancelled_batch_gives_no_advice_to_resume(
    api: ApiClient,
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    rows = order_rows(4)
    rows[2][5] = "30305"  # row 2: UPS rejects this postal code when shipping
    ups_sandbox.set_fault("reject_address", endpoint="ship", postal_codes=["30305"])
    job_id = drive(api, orders_csv(4, rows=rows), django_capture_on_commit_callbacks)
    error = api.get(f"/api/jobs/{job_id}").json()["last_error"]["message"]
    assert error.startswith("Row 2: ")
    failed = api.get(f"/api/jobs/{job_id}/recovery").json()["last_error"]
    assert failed.endswith(" Resume will retry row 2.")

    assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 200

    recovery = api.get(f"/api/jobs/{job_id}/recovery").json()
    assert recovery["last_error"] == f"Stopped at row 2 due to: {error.rstrip('.')}."
    assert "esume" not in recovery["last_error"]
    assert api.get(f"/api/jobs/{job_id}").json()["last_error"]["message"] == error
    # Nothing remains to ship: the headline says what will not, not "0 remaining".
    assert recovery["headline"].startswith(f"Job {job_id} was cancelled at row 2 of 4. Last: ")
    assert recovery["headline"].endswith(" 3 not shipped (cancelled).")


def test_resume_asks_a_person_about_a_row_ups_does_not_know(
    api: ApiClient,
    ups_sandbox: SandboxController,
    source: DataSource,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    job = make_job(source, "failed", rows=("shipped", "unknown", "pending"))
    unknown = JobRow.objects.get(job=job, row_number=2)
    refused = api.post(f"/api/jobs/{job.pk}/resume")

    assert refused.status_code == 409
    assert refused.json()["code"] == "needs_decision"
    assert refused.json()["details"] == {"rows": [unknown.pk]}
    assert ups_sandbox.requests("track")

    api.post(f"/api/jobs/{job.pk}/rows/{unknown.pk}/decide", {"shipped": False})
    with django_capture_on_commit_callbacks(execute=False) as queued:
        resumed = api.post(f"/api/jobs/{job.pk}/resume")
    assert (resumed.status_code, resumed.json()["status"]) == (202, "running")
    assert len(queued) == 1


def test_a_ups_failure_is_a_conflict_that_carries_no_secret(
    api: ApiClient,
    ups_sandbox: SandboxController,
    source: DataSource,
    settings: LazySettings,
) -> None:
    ups_sandbox.set_fault("http_500", endpoint="track")
    job = make_job(source, "interrupted", rows=("shipped", "unknown", "pending"))
    response = api.post(f"/api/jobs/{job.pk}/resume")

    assert (response.status_code, response.json()["code"]) == (409, "reconcile_failed")
    assert response.json()["message"].startswith("Could not look up unknown rows at UPS")
    assert SANDBOX_CLIENT_SECRET not in response.content.decode()
    assert settings.UPS_CLIENT_ID not in response.content.decode()
    job.refresh_from_db()
    assert job.status == "interrupted"
