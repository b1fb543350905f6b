"""Fixtures for the batch engine: saved sources on real files and tables, an approver."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf

from datasources.models import DataSource, SourceKind
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.approval import job_approve
from jobs.services.creation import job_create
from jobs.services.execution import job_execute
from jobs.services.in_flight import SHIP_STARTED
from jobs.services.preview import job_preview_run, job_preview_start
from tests.factories import DataSourceFactory
from tests.fixtures.sources import csv_bytes, order_rows
from tests.ups.test_errors import free_port


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point django-q2 at a Redis broker nobody listens on: queueing a task raises."""
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setattr(Conf, "SYNC", False)


def as_if_ups_can_no_longer_answer(row: JobRow) -> None:
    """Date the row's ship requests back past the longest a ship call may take."""
    long_ago = timezone.now() - timedelta(hours=1)
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:  # audit entries refuse changes through the ORM
        cursor.execute(
            f"UPDATE {table} SET created_at = %s WHERE row_id = %s AND action = %s",  # noqa: S608
            [long_ago, row.pk, SHIP_STARTED],
        )


class SimulatedCrash(BaseException):
    """Stands in for the process dying: nothing in ShipOps catches a BaseException."""


@pytest.fixture
def orders_csv(write_source: Callable[[str, bytes], Path]) -> Callable[..., DataSource]:
    """Return a factory: n valid orders -> a saved CSV DataSource on a real file."""

    def make(
        count: int, name: str = "orders.csv", rows: list[list[str]] | None = None
    ) -> DataSource:
        write_source(name, csv_bytes(rows or order_rows(count)))
        return DataSourceFactory.create(
            kind=SourceKind.CSV, file_path=name, key_column="order_id", name=name
        )

    return make


def break_at_row(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, row_number: int, error: Exception
) -> None:
    """Make ``module``'s ``shipment_request`` raise ``error`` for one row, as a bug would."""
    real = module.shipment_request

    def broken(*, row: Any, ship_from: Any) -> Any:
        if row.row_number == row_number:
            raise error
        return real(row=row, ship_from=ship_from)

    monkeypatch.setattr(module, "shipment_request", broken)


def read_csv(source: DataSource, root: Path) -> list[dict[str, str]]:
    with (root / source.file_path).open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def previewed_job(source: DataSource, user: User) -> Job:
    """Create a job and run its preview here, as the preview task would."""
    job = job_create(source=source, actor=user)
    job_preview_run(
        job_id=job.pk, token=job_preview_start(job=job, actor=user, in_background=False)
    )
    job.refresh_from_db()
    return job


def ship_all(job: Job, user: User) -> Job:
    """Approve ``job`` and run its executor here to the end, as the cluster would."""
    token = job_approve(job=job, acting_user=user, in_background=False)
    job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
    job.refresh_from_db()
    return job


def tracking_in_file(source: DataSource, root: Path) -> dict[str, str]:
    return {line["order_id"]: line.get("tracking_number") or "" for line in read_csv(source, root)}


def assert_the_file_has_every_shipped_tracking_number(
    job: Job, source: DataSource, root: Path, user: User
) -> None:
    """Each shipped row's tracking number is in the file, so a new job leaves its order out."""
    shipped = dict(
        JobRow.objects.filter(job=job, status="shipped").values_list(
            "source_key", "tracking_number"
        )
    )
    in_file = tracking_in_file(source, root)
    assert {key: in_file[key] for key in shipped} == shipped
    assert not JobRow.objects.filter(
        job=job, status="shipped", writeback_status__in=["pending", "failed"]
    ).exists()
    assert job_create(source=source, actor=user).already_shipped_count == len(shipped)
