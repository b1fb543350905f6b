"""Reading jobs, rows, the preview, progress and recovery: shapes, filters, query counts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from pytest_django import DjangoAssertNumQueries

from datasources.models import DataSource
from jobs.services.creation import job_create
from tests.jobs.api.contract import ApiClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("size", [10, 1000])
def test_reading_a_job_costs_the_same_queries_for_10_and_1000_rows(
    size: int,
    api: ApiClient,
    approver: User,
    orders_csv: Callable[..., DataSource],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    job = job_create(source=orders_csv(size), actor=approver)
    for _ in range(3):
        job_create(source=job.data_source, actor=approver)

    # Session and user (2), their permissions and their groups' (2), then: the job (1);
    # a page is a count and the page (2).
    with django_assert_num_queries(6):
        listed = api.get("/api/jobs/")
    with django_assert_num_queries(5):
        detail = api.get(f"/api/jobs/{job.pk}")
    with django_assert_num_queries(7):
        rows = api.get(f"/api/jobs/{job.pk}/rows", {"page": 2, "page_size": 5})
    with django_assert_num_queries(5):
        progress = api.get(f"/api/jobs/{job.pk}/progress")
    with django_assert_num_queries(7):
        preview = api.get(f"/api/jobs/{job.pk}/preview")

    assert listed.json()["count"] == 4
    assert detail.json()["counts"]["rows"] == size
    assert [row["number"] for row in rows.json()["results"]] == [6, 7, 8, 9, 10]
    assert progress.json()["total"] == size
    assert preview.json()["total_rows"] == size
