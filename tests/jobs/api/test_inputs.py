"""Bodies the API refuses before reading a field: deep nesting, keys given twice, bad text."""

from __future__ import annotations

import pytest

from datasources.models import DataSource
from jobs.models import AuditEntry, Job, JobRow
from tests.jobs.api.conftest import make_job
from tests.jobs.api.contract import ApiClient

pytestmark = pytest.mark.django_db


def nested(depth: int, inner: str = "1") -> str:
    """Return ``inner`` inside ``depth`` JSON objects."""
    return '{"a": ' * depth + inner + "}" * depth


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,  # past Python's recursion limit
        '{"source": SOURCE, "filter": ' + nested(50_000) + "}",
        '{"source": SOURCE, "filter": ' + nested(6) + "}",  # under it, past the API's
        '{"source": SOURCE, "mode": ' + "[" * 500 + "]" * 500 + "}",
    ],
    ids=["array", "filter", "filter_six_deep", "mode"],
)
def test_a_deeply_nested_body_is_refused_and_creates_nothing(
    api: ApiClient, source: DataSource, body: str
) -> None:
    response = api.post_text("/api/jobs/", body.replace("SOURCE", str(source.pk)))

    assert (response.status_code, response.json()["code"]) == (400, "bad_json")
    assert "nested more than 5 levels deep" in response.json()["message"]
    assert not Job.objects.exists()


def test_a_filter_five_levels_deep_is_read_as_a_filter(api: ApiClient, source: DataSource) -> None:
    column = "[" * 3 + "]" * 3
    response = api.post_text(
        "/api/jobs/", f'{{"source": {source.pk}, "filter": {{"column": {column}}}}}'
    )

    assert (response.status_code, response.json()["code"]) == (400, "bad_filter")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"source": "x", "source": SOURCE}', "source"),
        ('{"source": SOURCE, "mode": "confirm", "mode": "auto"}', "mode"),
        ('{"source": SOURCE, "filter": {"value": "GA", "column": "zip", "value": "TX"}}', "value"),
    ],
    ids=["source", "mode", "filter_value"],
)
def test_a_key_given_twice_is_refused_by_name(
    api: ApiClient, source: DataSource, body: str, field: str
) -> None:
    response = api.post_text("/api/jobs/", body.replace("SOURCE", str(source.pk)))

    assert (response.status_code, response.json()["code"]) == (400, "invalid_request")
    assert response.json()["details"] == {"field": field}
    assert response.json()["message"] == f"{field}: is given twice; send each field once."
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        (r"Wrong file \ud800", r"holds \ud800, half of a UTF-16 surrogate pair without the other"),
        (r"\udfff", r"holds \udfff, half of a UTF-16 surrogate pair without the other"),
        (r"Wrong\u0000file", r"holds a NUL character (\u0000), which cannot be stored"),
    ],
    ids=["high_surrogate", "low_surrogate", "nul"],
)
def test_a_reason_that_is_not_storable_text_changes_nothing(
    api: ApiClient, source: DataSource, reason: str, problem: str
) -> None:
    job = make_job(source, "draft")
    response = api.post_text(f"/api/jobs/{job.pk}/cancel", f'{{"reason": "{reason}"}}')

    assert (response.status_code, response.json()["code"]) == (400, "invalid_request")
    assert response.json()["details"] == {"field": "reason"}
    assert response.json()["message"].startswith(f"reason: {problem}")
    job.refresh_from_db()
    assert job.status == "draft"
    assert not AuditEntry.objects.filter(job=job).exists()


def test_a_surrogate_pair_is_one_character_and_is_taken(api: ApiClient, source: DataSource) -> None:
    job = make_job(source, "draft")
    response = api.post_text(f"/api/jobs/{job.pk}/cancel", r'{"reason": "Wrong file \ud83d\udce6"}')

    assert response.status_code == 200
    entry = AuditEntry.objects.get(job=job, action="job_cancelled")
    assert entry.message.endswith("Wrong file \N{PACKAGE}")


def test_a_tracking_number_with_a_lone_surrogate_is_refused_by_name(
    api: ApiClient, source: DataSource
) -> None:
    job = make_job(source, "failed", rows=("unknown",))
    row = JobRow.objects.get(job=job)
    body = {"shipped": True, "tracking_number": "1Z999AA1012345679\ud800"}
    response = api.post(f"/api/jobs/{job.pk}/rows/{row.pk}/decide", body)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_request")
    assert response.json()["details"] == {"field": "tracking_number"}
    row.refresh_from_db()
    assert row.status == "unknown"


@pytest.mark.parametrize(
    ("filter_text", "field"),
    [
        (r'{"column": "state", "value": "G\ud800"}', "filter.value"),
        (r'{"column": "\ud800", "value": "GA"}', "filter.column"),
        (r'{"column": "state", "value": "GA\u0000"}', "filter.value"),
        (r'{"\ud800": "GA"}', r"filter.\ud800"),
    ],
    ids=["value_surrogate", "column_surrogate", "value_nul", "name_surrogate"],
)
def test_filter_text_that_is_not_storable_is_refused_by_its_path(
    api: ApiClient, source: DataSource, filter_text: str, field: str
) -> None:
    body = f'{{"source": {source.pk}, "filter": {filter_text}}}'
    response = api.post_text("/api/jobs/", body)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_request")
    assert response.json()["details"] == {"field": field}
    assert not Job.objects.exists()
