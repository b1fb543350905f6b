"""Fixtures for the JSON API: logged-in clients that check answers against the document."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from datasources.models import DataSource
from jobs.models import Job
from tests.factories import JobFactory, JobRowFactory, ShippedJobRowFactory, UserFactory
from tests.jobs.api.contract import ApiClient


@pytest.fixture
def api(client: Client, approver: User) -> ApiClient:
    """A staff user with the approve permission, logged in."""
    client.force_login(approver)
    return ApiClient(client)


@pytest.fixture
def clerk() -> User:
    """An operator without the approve permission."""
    return UserFactory.create(username="casey", approver=False)


@pytest.fixture
def clerk_api(clerk: User) -> ApiClient:
    client = Client()
    client.force_login(clerk)
    return ApiClient(client)


@pytest.fixture
def anonymous_api(client: Client) -> ApiClient:
    return ApiClient(client)


@pytest.fixture
def source(orders_csv: Callable[..., DataSource]) -> DataSource:
    """Three valid orders, SO-00001 to SO-00003, in a real CSV file."""
    return orders_csv(3)


def make_job(source: DataSource, status: str, rows: Sequence[str] = ("pending",) * 3) -> Job:
    """Return a job in ``status`` whose rows (statuses ``rows``) are the source's first orders."""
    job = JobFactory.create(
        data_source=source,
        status=status,
        row_count=len(rows),
        shipped_count=list(rows).count("shipped"),
        failed_count=list(rows).count("failed"),
    )
    for number, row_status in enumerate(rows, start=1):
        factory = ShippedJobRowFactory if row_status == "shipped" else JobRowFactory
        factory.create(
            job=job,
            row_number=number,
            source_key=f"SO-{number:05d}",
            status=row_status,
            estimated_cost_cents=1000 + number,
            tracking_number=f"1Z999AA1012345678{number}" if row_status == "shipped" else "",
            shipped_at=timezone.now() if row_status == "shipped" else None,
        )
    return job
