"""The API's HTTP rules: JSON in, pages, filters, 404/405/415, and the UPS safety net."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest, JsonResponse
from django.test import RequestFactory

from datasources.models import DataSource
from jobs.api.http import ApiView
from jobs.models import JobRow
from tests.jobs.api.conftest import make_job
from tests.jobs.api.contract import ApiClient
from ups.errors import UpsTransientError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "bad_json"),
        ("[1, 2]", "application/json", 400, "bad_json"),
        ('{"force": true}', "application/json", 400, "invalid_request"),
        ("reason=late", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_a_body_must_be_a_json_object_of_known_fields(
    api: ApiClient, source: DataSource, data: str, content_type: str, status: int, code: str
) -> None:
    job = make_job(source, "draft")
    response = api.client.post(f"/api/jobs/{job.pk}/cancel", data, content_type=content_type)

    assert (response.status_code, response.json()["code"]) == (status, code)
    job.refresh_from_db()
    assert job.status == "draft"


def test_an_unknown_field_is_named_with_the_fields_the_action_takes(
    api: ApiClient, source: DataSource
) -> None:
    job = make_job(source, "previewed")
    details = api.post(f"/api/jobs/{job.pk}/approve", {"switch": True}).json()["details"]

    assert details == {"fields": ["switch"], "allowed": ["switch_to_auto"]}


def test_a_method_a_url_does_not_take_is_a_405_that_says_which_it_takes(api: ApiClient) -> None:
    response = api.send("put", "/api/jobs/")

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert response.json()["details"] == {"allowed": ["GET", "POST"]}


def test_rows_are_paged_in_source_order_with_links(api: ApiClient, source: DataSource) -> None:
    job = make_job(source, "running", rows=("shipped", "pending", "failed", "pending", "pending"))
    first = api.get(f"/api/jobs/{job.pk}/rows", {"page_size": 2}).json()
    last = api.get(first["next"].replace("page=2", "page=3")).json()

    assert (first["count"], first["pages"], first["previous"]) == (5, 3, None)
    assert [row["number"] for row in first["results"]] == [1, 2]
    assert first["next"] == f"/api/jobs/{job.pk}/rows?page_size=2&page=2"
    assert [row["number"] for row in last["results"]] == [5]
    assert (last["next"], last["previous"]) == (None, f"/api/jobs/{job.pk}/rows?page_size=2&page=2")


def test_rows_filter_by_one_or_more_statuses(api: ApiClient, source: DataSource) -> None:
    job = make_job(source, "failed", rows=("shipped", "failed", "pending"))
    url = f"/api/jobs/{job.pk}/rows"
    failed = api.get(url, {"status": "failed"}).json()
    either = api.get(f"{url}?status=failed&status=shipped").json()

    assert [row["status"] for row in failed["results"]] == ["failed"]
    assert [row["number"] for row in either["results"]] == [1, 2]
    shipped = either["results"][0]
    assert shipped["tracking_number"] == JobRow.objects.get(pk=shipped["id"]).tracking_number
    assert shipped["estimated_cost"] == {"cents": 1001, "currency": "USD"}


def test_jobs_filter_by_status_newest_first(api: ApiClient, source: DataSource) -> None:
    older, _, newer = (make_job(source, status) for status in ("failed", "draft", "failed"))
    listed = api.get("/api/jobs/", {"status": "failed"}).json()

    assert [job["id"] for job in listed["results"]] == [newer.pk, older.pk]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"page": "0"}, 400, "invalid_request"),
        ({"page": "²"}, 400, "invalid_request"),
        ({"page_size": "201"}, 400, "invalid_request"),
        ({"page_size": "9" * 5000}, 400, "invalid_request"),  # int() refuses 4,300 digits
        ({"page": "1" + "0" * 5000}, 400, "invalid_request"),
        ({"page": "0003", "page_size": "2"}, 404, "page_not_found"),  # leading zeros read
        ({"status": "lost"}, 400, "invalid_request"),
        ({"page": "3", "page_size": "2"}, 404, "page_not_found"),
    ],
)
def test_bad_paging_and_filters_are_refused(
    api: ApiClient, source: DataSource, params: dict[str, str], status: int, code: str
) -> None:
    job = make_job(source, "draft")
    response = api.get(f"/api/jobs/{job.pk}/rows", params)

    assert (response.status_code, response.json()["code"]) == (status, code)


def test_an_empty_list_is_one_empty_page(api: ApiClient) -> None:
    body = api.get("/api/jobs/").json()

    assert (body["count"], body["pages"], body["results"]) == (0, 1, [])


def test_a_missing_job_and_an_unknown_url_are_json_404s(api: ApiClient) -> None:
    job = api.get("/api/jobs/424242/progress")
    typo = api.get("/api/jobs")

    assert (job.status_code, job.json()["message"]) == (404, "There is no job 424242.")
    assert typo.status_code == 404
    assert "Did you mean /api/jobs/?" in typo.json()["message"]


def test_a_ups_error_that_reaches_a_view_is_a_502_in_the_error_shape(approver: User) -> None:
    class Failing(ApiView):
        def get(self, request: HttpRequest) -> JsonResponse:
            raise UpsTransientError("http_503", "UPS is busy (HTTP 503).", http_status=503)

    request = RequestFactory().get("/api/anything")
    request.user = approver
    response = Failing.as_view()(request)
    assert isinstance(response, JsonResponse)

    assert response.status_code == 502
    assert json.loads(response.content) == {
        "code": "ups_error",
        "message": "UPS did not answer as expected: UPS is busy (HTTP 503).",
        "details": {"kind": "transient", "ups_code": "http_503"},
    }


def test_the_document_is_served_to_staff(api: ApiClient) -> None:
    document = api.get("/api/openapi.json").json()

    assert document["openapi"].startswith("3.1.")
    assert "/api/jobs/{job_id}/rows" in document["paths"]
