"""Unknown query parameters are refused, as unknown body fields are (found by schemathesis)."""

from __future__ import annotations

from typing import Any

import pytest

from datasources.models import DataSource
from tests.jobs.api.conftest import make_job
from tests.jobs.api.contract import ApiClient


def refused(api: ApiClient, source: DataSource, path: str, query: dict[str, Any]) -> Any:
    """GET ``path`` (of a job made now) with ``query``; check the 400 and return its body."""
    job = make_job(source, "failed", ("shipped", "failed", "pending"))

    response = api.get(path.format(job=job.pk), query)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_request"
    return body


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/jobs/", {"stauts": "failed"}),
        ("/api/jobs/{job}/rows", {"status": "shipped", "page_sise": "10"}),
        ("/api/jobs/{job}", {"verbose": "1"}),
        ("/api/jobs/{job}/progress", {"": "false"}),
    ],
)
def test_a_query_parameter_the_operation_does_not_take_is_refused(
    api: ApiClient, source: DataSource, path: str, query: dict[str, str]
) -> None:
    body = refused(api, source, path, query)

    assert body["details"]["fields"] == sorted(set(query) - {"status", "page", "page_size"})


def test_the_parameters_an_operation_takes_still_work(api: ApiClient, source: DataSource) -> None:
    make_job(source, "failed", ("shipped", "failed", "pending"))

    response = api.get("/api/jobs/", {"status": "failed", "page": "1", "page_size": "10"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_an_unknown_url_with_a_query_string_is_still_a_404(api: ApiClient) -> None:
    response = api.get("/api/nothing-here", {"x": "1"})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/jobs/", {"status": ""}, "status"),
        ("/api/jobs/{job}/rows", {"status": ["shipped", ""]}, "status"),
        ("/api/jobs/", {"page": ""}, "page"),
        ("/api/jobs/{job}/rows", {"page_size": ""}, "page_size"),
    ],
)
def test_an_empty_filter_or_page_is_refused_not_read_as_none_given(
    api: ApiClient, source: DataSource, path: str, query: dict[str, object], field: str
) -> None:
    # Found by schemathesis (SHIPOPS_FUZZ_EXAMPLES=150): "?status=" listed every job.
    assert field in refused(api, source, path, query)["message"]
