"""Creating a job through the API: confirm and auto mode, filters, and refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from datasources.models import DataSource
from jobs.models import Job, JobRow
from jobs.services.creation import session_hash
from tests.fixtures.sources import order_rows
from tests.jobs.api.conftest import make_job
from tests.jobs.api.contract import ApiClient

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def test_a_confirm_mode_job_is_created_as_a_draft_from_every_row(
    api: ApiClient, source: DataSource, approver: User, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post("/api/jobs/", {"source": source.pk})

    body = response.json()
    assert response.status_code == 201
    assert response["Location"] == f"/api/jobs/{body['id']}"
    assert (body["status"], body["mode"], body["counts"]["rows"]) == ("draft", "confirm", 3)
    assert body["created_by"] == approver.username
    assert body["filter_description"] == "all rows"
    assert queued == []
    job = Job.objects.get(pk=body["id"])
    assert job.session_hash == session_hash(api.client.session.session_key)


def test_the_filter_picks_the_rows(api: ApiClient, orders_csv: Callable[..., DataSource]) -> None:
    source = orders_csv(8)
    wanted = {"column": "order_id", "match": "contains", "value": "0000", "last_row": 4}
    body = api.post("/api/jobs/", {"source": source.pk, "filter": wanted}).json()

    assert body["counts"]["rows"] == 4
    assert body["filter"] == wanted
    assert body["filter_description"] == 'order_id contains "0000", rows 1-4'


def test_an_auto_mode_job_is_approved_and_queued_at_once(
    api: ApiClient, source: DataSource, approver: User, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post("/api/jobs/", {"source": source.pk, "mode": "auto"})

    body = response.json()
    assert (response.status_code, body["status"], body["mode"]) == (201, "approved", "auto")
    assert body["approved_by"] == approver.username
    assert len(queued) == 1


def test_an_auto_mode_job_with_invalid_rows_waits_as_a_draft(
    api: ApiClient,
    orders_csv: Callable[..., DataSource],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    rows = order_rows(3)
    rows[2][5] = "3030"  # not a ZIP code
    with django_capture_on_commit_callbacks(execute=False) as queued:
        body = api.post(
            "/api/jobs/", {"source": orders_csv(3, rows=rows).pk, "mode": "auto"}
        ).json()

    assert (body["status"], body["counts"]["invalid"]) == ("draft", 1)
    assert queued == []


def test_without_a_mode_the_session_mode_applies(api: ApiClient, source: DataSource) -> None:
    job = make_job(source, "previewed")
    api.post(f"/api/jobs/{job.pk}/approve", {"switch_to_auto": True})
    # It ends without shipping its rows, so that the next job may take them.
    Job.objects.filter(pk=job.pk).update(status="cancelled")
    JobRow.objects.filter(job=job).update(status="cancelled")

    body = api.post("/api/jobs/", {"source": source.pk}).json()
    assert body["mode"] == "auto"
    assert body["status"] == "approved"


def test_auto_mode_creates_nothing_while_another_job_may_ship_the_rows(
    api: ApiClient, source: DataSource
) -> None:
    job = make_job(source, "previewed")
    api.post(f"/api/jobs/{job.pk}/approve", {"switch_to_auto": True})

    response = api.post("/api/jobs/", {"source": source.pk})

    assert (response.status_code, response.json()["code"]) == (409, "rows_in_another_job")
    assert Job.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_request"),
        ({"source": "1"}, 400, "invalid_request"),
        ({"source": 999999}, 400, "invalid_request"),
        ({"mode": "fast"}, 400, "invalid_request"),
        ({"include_already_shipped": "yes"}, 400, "invalid_request"),
        ({"filter": ["state"]}, 400, "invalid_request"),
        ({"filter": {"column": "state"}}, 400, "bad_filter"),
        ({"filter": {"first_row": 5, "last_row": 2}}, 400, "bad_filter"),
        ({"priority": "high"}, 400, "invalid_request"),
        ({"filter": {"column": "state", "value": "TX"}}, 409, "no_rows"),
        ({"filter": {"column": "region", "value": "TX"}}, 409, "filter_column_missing"),
    ],
)
def test_bad_requests_create_nothing(
    api: ApiClient, source: DataSource, body: dict[str, Any], status: int, code: str
) -> None:
    response = api.post("/api/jobs/", {"source": source.pk, **body} if body else body)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Job.objects.exists()


def test_a_missing_source_file_is_a_conflict_that_names_the_file(
    api: ApiClient, source: DataSource, source_root: Any
) -> None:
    (source_root / source.file_path).unlink()
    response = api.post("/api/jobs/", {"source": source.pk})

    assert response.status_code == 409
    assert source.file_path in response.json()["message"]
    assert not Job.objects.exists()


def test_a_source_file_shipops_may_not_read_is_a_conflict_that_names_the_file(
    api: ApiClient, source: DataSource, unreadable: Callable[[str], None]
) -> None:
    unreadable(source.file_path)
    response = api.post("/api/jobs/", {"source": source.pk})

    assert (response.status_code, response.json()["code"]) == (409, "source_unreadable")
    assert response.json()["details"]["source"] == source.file_path
    assert not Job.objects.exists()
