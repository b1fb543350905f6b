"""Acting on jobs through the API: each action calls its service and answers with the job."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from datasources.models import DataSource
from jobs.models import Job, JobRow
from jobs.services.restart import job_restart_warning
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.api.conftest import make_job
from tests.jobs.api.contract import ApiClient
from tests.jobs.conftest import read_csv
from tests.ups.conftest import shipment
from ups.client import UpsClient

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.mark.parametrize(
    ("status", "action", "becomes"),
    [("draft", "preview", "previewing"), ("previewed", "approve", "approved")],
)
def test_preview_and_approve_queue_their_background_task(
    api: ApiClient,
    source: DataSource,
    django_capture_on_commit_callbacks: Capture,
    status: str,
    action: str,
    becomes: str,
) -> None:
    job = make_job(source, status)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post(f"/api/jobs/{job.pk}/{action}")

    assert (response.status_code, response.json()["status"]) == (202, becomes)
    assert len(queued) == 1


def test_an_action_the_job_cannot_take_is_a_conflict_with_the_reason(
    api: ApiClient, source: DataSource
) -> None:
    job = make_job(source, "running")
    response = api.post(f"/api/jobs/{job.pk}/preview")

    body = response.json()
    assert (response.status_code, body["code"]) == (409, "illegal_transition")
    assert (
        body["message"]
        == f"Job {job.pk} is running: only a draft or previewed job can be previewed."
    )
    assert body["details"] == {"from": "running", "to": "previewing"}


@pytest.mark.parametrize(("status", "code"), [("draft", "preview_first"), ("cancelled", "")])
def test_approve_refuses_what_the_service_refuses(
    api: ApiClient, source: DataSource, status: str, code: str
) -> None:
    job = make_job(source, status)
    response = api.post(f"/api/jobs/{job.pk}/approve")

    assert response.status_code == 409
    assert response.json()["code"] == (code or "illegal_transition")
    job.refresh_from_db()
    assert job.status == status


def test_switching_to_auto_is_refused_while_a_batch_of_the_session_runs(
    api: ApiClient, source: DataSource
) -> None:
    first = api.post("/api/jobs/", {"source": source.pk, "mode": "auto"}).json()
    second = make_job(source, "previewed")
    response = api.post(f"/api/jobs/{second.pk}/approve", {"switch_to_auto": True})

    assert first["status"] == "approved"
    assert response.status_code == 409
    assert response.json()["code"] == "mode_locked"
    assert response.json()["details"] == {"job": first["id"]}
    second.refresh_from_db()
    assert second.status == "previewed"
    # The session kept its mode: a job created without a mode is a confirm job.
    assert api.post("/api/jobs/", {"source": source.pk}).json()["mode"] == "confirm"


def test_restart_without_confirmation_answers_the_duplicate_warning(
    api: ApiClient, source: DataSource
) -> None:
    job = make_job(source, "interrupted", rows=("shipped", "shipped", "pending"))
    response = api.post(f"/api/jobs/{job.pk}/restart")

    assert response.status_code == 409
    assert response.json()["code"] == "restart_needs_confirmation"
    assert response.json()["message"] == job_restart_warning(job)
    assert response.json()["message"].startswith("Rows 1-2 already have tracking numbers")
    job.refresh_from_db()
    assert job.status == "interrupted"


def test_a_confirmed_restart_answers_the_new_approved_job(
    api: ApiClient, source: DataSource, django_capture_on_commit_callbacks: Capture
) -> None:
    job = make_job(source, "interrupted", rows=("shipped", "pending", "pending"))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post(f"/api/jobs/{job.pk}/restart", {"confirm_duplicates": True})

    body = response.json()
    assert response.status_code == 201
    assert response["Location"] == f"/api/jobs/{body['id']}"
    assert body["id"] != job.pk
    assert (body["status"], body["counts"]["rows"]) == ("approved", 3)
    assert len(queued) == 1
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_a_restart_with_the_token_of_an_older_recovery_answer_is_refused(
    api: ApiClient, source: DataSource
) -> None:
    job = make_job(source, "interrupted", rows=("shipped", "pending", "pending"))
    seen = api.get(f"/api/jobs/{job.pk}/recovery").json()["token"]
    Job.objects.filter(pk=job.pk).update(fencing_token=seen + 1)  # resumed and stopped since

    response = api.post(f"/api/jobs/{job.pk}/restart", {"confirm_duplicates": True, "token": seen})

    assert response.status_code == 409
    assert response.json()["code"] == "restart_stale"
    assert Job.objects.count() == 1
    fresh = api.get(f"/api/jobs/{job.pk}/recovery").json()["token"]
    ok = api.post(f"/api/jobs/{job.pk}/restart", {"confirm_duplicates": True, "token": fresh})
    assert ok.status_code == 201


def test_cancel_keeps_shipped_rows_and_records_the_reason(
    api: ApiClient, source: DataSource
) -> None:
    job = make_job(source, "interrupted", rows=("shipped", "pending", "pending"))
    response = api.post(f"/api/jobs/{job.pk}/cancel", {"reason": "Wrong batch."})
    again = api.post(f"/api/jobs/{job.pk}/cancel")

    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    statuses = list(JobRow.objects.filter(job=job).values_list("status", flat=True))
    assert statuses == ["shipped", "cancelled", "cancelled"]
    assert job.audit_entries.get(action="job_cancelled").message.endswith("Wrong batch.")
    assert (again.status_code, again.json()["code"]) == (409, "not_cancellable")


def test_exclude_invalid_skips_the_rows_with_errors(api: ApiClient, source: DataSource) -> None:
    job = make_job(source, "previewed", rows=("pending",) * 4)
    JobRow.objects.filter(job=job, row_number=2).update(is_valid=False, errors=[{"m": "x"}])
    Job.objects.filter(pk=job.pk).update(invalid_count=1, previewed_count=3)
    assert api.get(f"/api/jobs/{job.pk}/progress").json()["total"] == 3

    response = api.post(f"/api/jobs/{job.pk}/exclude-invalid")

    body = response.json()
    assert (body["excluded"], body["job"]["counts"]["skipped"]) == (1, 1)
    assert JobRow.objects.get(job=job, row_number=2).status == "skipped"
    # The excluded row is counted once: 3 of 3 rows rated, not 3 of 2.
    assert body["job"]["counts"]["invalid"] == 0
    progress = api.get(f"/api/jobs/{job.pk}/progress").json()
    assert (progress["done"], progress["total"]) == (3, 3)


def test_retry_writeback_writes_the_tracking_numbers_into_the_file(
    api: ApiClient, source: DataSource, source_root: Path
) -> None:
    job = make_job(source, "completed_with_warnings", rows=("shipped",) * 3)
    JobRow.objects.filter(job=job).update(writeback_status="failed")
    response = api.post(f"/api/jobs/{job.pk}/retry-writeback")

    assert response.json()["status"] == "completed"
    in_file = {line["order_id"]: line["tracking_number"] for line in read_csv(source, source_root)}
    assert in_file == dict(
        JobRow.objects.filter(job=job).values_list("source_key", "tracking_number")
    )
    refused = api.post(f"/api/jobs/{job.pk}/retry-writeback")
    assert (refused.status_code, refused.json()["code"]) == (409, "nothing_to_write")
    assert refused.json()["message"] == f"Every tracking number of {job} is already in the source."
    previewed = make_job(source, "previewed")
    unshipped = api.post(f"/api/jobs/{previewed.pk}/retry-writeback").json()
    assert unshipped["message"] == (
        f"{previewed} has shipped nothing: it has no tracking number to write back."
    )


def test_fetch_labels_gets_the_labels_ups_has_and_says_which_it_has_not(
    api: ApiClient, source: DataSource, ups_sandbox: SandboxController
) -> None:
    job = make_job(source, "completed", rows=("shipped",) * 2)
    first, second = JobRow.objects.filter(job=job).order_by("row_number")
    shipped = UpsClient().ship(shipment(first.reference))
    JobRow.objects.filter(pk=first.pk).update(tracking_number=shipped.tracking_number)

    answer = api.post(f"/api/jobs/{job.pk}/fetch-labels")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["fetched"], body["job"]["id"]) == ([1], job.pk)
    assert (body["not_fetched"], body["not_fetched_reason"]) == ([], None)
    assert body["not_found"] == [
        {
            "row_number": 2,
            "tracking_number": second.tracking_number,
            "reason": f"UPS does not know the tracking number {second.tracking_number}.",
        }
    ]
    assert JobRow.objects.get(pk=first.pk).label.read().startswith(b"GIF8")
    again = api.post(f"/api/jobs/{job.pk}/fetch-labels").json()
    assert (again["fetched"], len(again["not_found"])) == ([], 1)
    done = make_job(source, "completed", rows=())
    refused = api.post(f"/api/jobs/{done.pk}/fetch-labels")
    assert (refused.status_code, refused.json()["code"]) == (409, "nothing_to_fetch")


def test_a_person_settles_an_unknown_row(
    api: ApiClient, source: DataSource, ups_sandbox: SandboxController
) -> None:
    job = make_job(source, "failed", rows=("shipped", "unknown", "unknown"))
    second, third = JobRow.objects.filter(job=job, row_number__gt=1).order_by("row_number")
    shipped = api.post(
        f"/api/jobs/{job.pk}/rows/{second.pk}/decide",
        {"shipped": True, "tracking_number": "1z999aa10123456799"},
    )
    not_shipped = api.post(f"/api/jobs/{job.pk}/rows/{third.pk}/decide", {"shipped": False})

    assert shipped.json()["status"] == "shipped"
    assert shipped.json()["tracking_number"] == "1Z999AA10123456799"
    assert (not_shipped.json()["status"], not_shipped.json()["tracking_number"]) == (
        "pending",
        None,
    )
    assert Job.objects.get(pk=job.pk).shipped_count == 2


def test_restart_is_refused_while_rows_have_an_unknown_outcome(
    api: ApiClient, source: DataSource, ups_sandbox: SandboxController
) -> None:
    job = make_job(source, "failed", rows=("shipped", "unknown", "unknown"))
    recovery = api.get(f"/api/jobs/{job.pk}/recovery").json()
    assert recovery["restart_refusal"].startswith("Rows 2-3 have an unknown outcome: UPS may")

    response = api.post(f"/api/jobs/{job.pk}/restart", {"confirm_duplicates": True})
    assert response.status_code == 409
    assert response.json()["code"] == "restart_unknown_rows"
    assert response.json()["details"] == {"rows": [2, 3]}
    assert response.json()["message"] == recovery["restart_refusal"]
    assert Job.objects.count() == 1

    for row in JobRow.objects.filter(job=job, status="unknown"):
        api.post(f"/api/jobs/{job.pk}/rows/{row.pk}/decide", {"shipped": False})
    assert api.get(f"/api/jobs/{job.pk}/recovery").json()["restart_refusal"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_request"),
        ({"shipped": True}, 400, "invalid_request"),
        ({"shipped": False, "tracking_number": "1Z999AA10123456799"}, 400, "invalid_request"),
        ({"shipped": True, "tracking_number": "not a number"}, 400, "bad_tracking"),
    ],
)
def test_a_decision_must_be_explicit(
    api: ApiClient, source: DataSource, body: dict[str, Any], status: int, code: str
) -> None:
    job = make_job(source, "failed", rows=("unknown",))
    row = JobRow.objects.get(job=job)
    response = api.post(f"/api/jobs/{job.pk}/rows/{row.pk}/decide", body)

    assert (response.status_code, response.json()["code"]) == (status, code)
    row.refresh_from_db()
    assert row.status == "unknown"


def test_a_decision_on_a_row_that_is_not_unknown_or_of_another_job_is_refused(
    api: ApiClient, source: DataSource
) -> None:
    job = make_job(source, "failed", rows=("pending",))
    other = make_job(source, "failed", rows=("unknown",))
    row, elsewhere = JobRow.objects.get(job=job), JobRow.objects.get(job=other)
    pending = api.post(f"/api/jobs/{job.pk}/rows/{row.pk}/decide", {"shipped": False})
    mismatched = api.post(f"/api/jobs/{job.pk}/rows/{elsewhere.pk}/decide", {"shipped": False})

    assert (pending.status_code, pending.json()["code"]) == (409, "illegal_transition")
    assert (mismatched.status_code, mismatched.json()["code"]) == (404, "not_found")
