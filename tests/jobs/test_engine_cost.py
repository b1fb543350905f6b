"""What shipping one row costs the database: the executor's per-row statements stay few."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasources.models import DataSource
from jobs.models import AuditEntry
from jobs.services.approval import job_approve
from jobs.services.creation import job_create
from jobs.services.execution import job_execute
from tests.fixtures.ups_sandbox import SandboxController

pytestmark = pytest.mark.django_db

ROWS = 30


def statements_to_ship(rows: int, source: DataSource, user: User) -> int:
    job = job_create(source=source, actor=user, mode="auto")
    token = job_approve(job=job, acting_user=user, in_background=False)
    with CaptureQueriesContext(connection) as queries:
        job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
    job.refresh_from_db()
    assert (job.status, job.shipped_count) == ("completed", rows)
    return len(queries)


def test_each_row_costs_at_most_10_statements_with_its_audit_entries(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    # Phase A: fence, row compare-and-set, audit; phase B: fence + counters, row, audit;
    # plus a savepoint and its release around each phase (this test runs in a transaction).
    # Rows are read a page at a time, not one query each.
    small = statements_to_ship(1, orders_csv(1, name="one.csv"), approver)
    large = statements_to_ship(ROWS + 1, orders_csv(ROWS + 1, name="more.csv"), approver)

    # 17.8 with a SELECT per row and per transition; 13.8 with a savepoint per transition.
    assert (large - small) / ROWS <= 10
    shipped = AuditEntry.objects.filter(action__in=["ship_started", "row_shipped"])
    assert shipped.count() == 2 * (ROWS + 2)
