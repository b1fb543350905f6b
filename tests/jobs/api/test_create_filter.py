"""A new job's filter: an object (or null) of text and whole row numbers, else a 400."""

from __future__ import annotations

from typing import Any

import pytest

from datasources.models import DataSource
from jobs.models import Job
from tests.jobs.api.contract import ApiClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("row_filter", [[], "", False, 0, True, "state", [{"first_row": 2}]])
def test_a_filter_that_is_not_an_object_is_refused_not_read_as_every_row(
    api: ApiClient, source: DataSource, row_filter: Any
) -> None:
    response = api.post("/api/jobs/", {"source": source.pk, "filter": row_filter})

    assert (response.status_code, response.json()["code"]) == (400, "invalid_request")
    assert response.json()["details"] == {"field": "filter"}
    assert response.json()["message"] == (
        "filter: must be a JSON object, or null (or left out) to take every row."
    )
    assert not Job.objects.exists()


@pytest.mark.parametrize("row_filter", [None, {}])
def test_a_null_or_empty_filter_takes_every_row(
    api: ApiClient, source: DataSource, row_filter: dict[str, Any] | None
) -> None:
    body = api.post("/api/jobs/", {"source": source.pk, "filter": row_filter}).json()

    assert (body["counts"]["rows"], body["filter_description"]) == (3, "all rows")


@pytest.mark.parametrize(
    "number", [float("inf"), float("-inf"), float("nan"), 1.9, 1.0, True, False, "2", ""]
)
@pytest.mark.parametrize("key", ["first_row", "last_row"])
def test_a_row_number_must_be_a_json_integer(
    api: ApiClient, source: DataSource, key: str, number: Any
) -> None:
    response = api.post("/api/jobs/", {"source": source.pk, "filter": {key: number}})

    assert (response.status_code, response.json()["code"]) == (400, "bad_filter")
    name = key.replace("_", " ")
    assert response.json()["message"] == (
        f"The filter's {name} must be a whole number written as a JSON integer, such as 2 "
        "(not a fraction, true or false, text, NaN or Infinity)."
    )
    assert not Job.objects.exists()


def test_whole_row_numbers_pick_the_rows(api: ApiClient, source: DataSource) -> None:
    body = api.post("/api/jobs/", {"source": source.pk, "filter": {"first_row": 2}}).json()

    assert (body["counts"]["rows"], body["filter_description"]) == (2, "rows 2-end")


@pytest.mark.parametrize(
    ("part", "given"),
    [("value", 0), ("value", 30303), ("value", True), ("value", 1.5), ("column", 5)],
)
def test_a_column_filter_takes_text_only_and_says_so(
    api: ApiClient, source: DataSource, part: str, given: Any
) -> None:
    row_filter = {"column": "zip", "value": "30303", part: given}
    response = api.post("/api/jobs/", {"source": source.pk, "filter": row_filter})

    assert (response.status_code, response.json()["code"]) == (400, "bad_filter")
    assert response.json()["message"] == (
        f'The filter\'s {part} must be text, a JSON string such as "30303" (not 30303).'
    )
    assert not Job.objects.exists()


def test_a_value_of_zero_as_text_is_a_value(api: ApiClient, source: DataSource) -> None:
    row_filter = {"column": "zip", "value": "0"}
    response = api.post("/api/jobs/", {"source": source.pk, "filter": row_filter})

    assert (response.status_code, response.json()["code"]) == (409, "no_rows")
    assert 'zip equals "0"' in response.json()["message"]


@pytest.mark.parametrize("row_filter", [{"column": "zip", "value": None}, {"value": "0"}])
def test_a_column_filter_needs_both_a_column_and_a_value(
    api: ApiClient, source: DataSource, row_filter: dict[str, Any]
) -> None:
    response = api.post("/api/jobs/", {"source": source.pk, "filter": row_filter})

    assert (response.status_code, response.json()["code"]) == (400, "bad_filter")
    assert response.json()["message"] == "A column filter needs both a column and a value."
