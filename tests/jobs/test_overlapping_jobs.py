"""Two jobs of one source never ship the same order: approval is one job at a time per order."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from datasources.models import DataSource
from jobs.admin.exports import result_rows
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.approval import job_approve
from jobs.services.cancel import job_cancel
from jobs.services.reconcile import row_decide_unknown
from shipops.errors import DomainError
from tests.factories import DataSourceFactory
from tests.fixtures.sources import csv_bytes, order_rows
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import previewed_job, ship_all
from tests.jobs.test_engine_failures import resume_to_end, statuses
from tests.jobs.test_engine_recovery import crashed_job

pytestmark = pytest.mark.django_db


def shipments_per_order(sandbox: SandboxController) -> dict[str, int]:
    """Return how many live shipments UPS made for each order (by its ship-to address)."""
    counts: dict[str, int] = {}
    for entry in sandbox.ledger():
        if not entry.get("voided"):
            order = json.dumps(entry["ship_to"], sort_keys=True)
            counts[order] = counts.get(order, 0) + 1
    return counts


@pytest.fixture(params=["order_id", ""], ids=["by key", "by row number"])
def key_column(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(
    params=["orders.csv", "./orders.csv", "link.csv"], ids=["one source", "two sources", "a link"]
)
def two_jobs(
    request: pytest.FixtureRequest,
    key_column: str,
    ups_sandbox: SandboxController,
    approver: User,
    write_source: Callable[[str, bytes], Path],
) -> tuple[Job, Job]:
    """Two previewed jobs of the same three orders (a double click, or a colleague).

    The second reads through the same data source, or through another one
    naming the same file differently ("./orders.csv", a link to it).
    """
    path = write_source("orders.csv", csv_bytes(order_rows(3)))
    (path.parent / "link.csv").symlink_to(path)
    source = DataSourceFactory.create(kind="csv", file_path="orders.csv", key_column=key_column)
    other = source
    if request.param != "orders.csv":
        other = DataSourceFactory.create(
            kind="csv", file_path=request.param, key_column=key_column, name="Orders again"
        )
    return previewed_job(source, approver), previewed_job(other, approver)


def of(job: Job, *, reading: Job, status: str = "approved") -> str:
    """How a refusal names ``job`` (in ``status``) when ``reading``'s approval meets it."""
    if job.data_source_id == reading.data_source_id:
        return f"{job} ({status})"
    return f'{job} ({status}, of the data source "{job.data_source}", which reads the same rows)'


def test_a_second_job_of_the_same_rows_is_not_approved_while_the_first_may_ship(
    two_jobs: tuple[Job, Job], approver: User
) -> None:
    first, second = two_jobs
    job_approve(job=first, acting_user=approver, in_background=False)

    with pytest.raises(DomainError) as refused:
        job_approve(job=second, acting_user=approver, in_background=False)

    assert refused.value.code == "rows_in_another_job"
    assert refused.value.message.startswith(
        f"{of(first, reading=second)} may still ship rows 1-3 of {second}, or may have shipped them"
    )
    second.refresh_from_db()
    assert second.status == "previewed"

    job_cancel(job=first, actor=approver, reason="Wrong day.")
    assert ship_all(second, approver).shipped_count == 3


def test_rows_another_job_shipped_since_this_one_was_created_are_skipped(
    two_jobs: tuple[Job, Job], approver: User, ups_sandbox: SandboxController, client: Client
) -> None:
    client.force_login(approver)
    first, second = two_jobs
    JobRow.objects.filter(job=first, row_number=3).update(status="skipped")  # left out of the first
    assert ship_all(first, approver).shipped_count == 2

    second = ship_all(second, approver)

    assert second.shipped_count == 1  # row 3 only
    assert list(
        JobRow.objects.filter(job=second).order_by("row_number").values_list("status", flat=True)
    ) == ["skipped", "skipped", "shipped"]
    assert sorted(shipments_per_order(ups_sandbox).values()) == [1, 1, 1]
    skipped = AuditEntry.objects.get(job=second, action="rows_shipped_elsewhere")
    assert skipped.message == (
        f"Rows 1-2 were shipped by {of(first, reading=second, status='completed')}; they are "
        "skipped here."
    )
    # Each skipped row says why where its problem is shown: the page's rows, the export.
    reason = f"Shipped by Job {first.pk}."
    problems = [line[-1] for line in result_rows(second)]
    assert problems[:2] == [reason, reason]
    page = client.get(reverse("admin:jobs_job_change", args=[second.pk])).text
    assert page.count(reason) == 2


def test_everything_shipped_elsewhere_leaves_nothing_to_approve(
    ups_sandbox: SandboxController,
    approver: User,
    orders_csv: Callable[..., DataSource],
) -> None:
    source = orders_csv(2)
    first, second = previewed_job(source, approver), previewed_job(source, approver)
    ship_all(first, approver)

    with pytest.raises(DomainError) as refused:
        job_approve(job=second, acting_user=approver, in_background=False)

    assert refused.value.code == "nothing_left_to_ship"
    assert refused.value.message == (
        f"Rows 1-2 were shipped by {first} (completed), and no other row of {second} is left "
        "to ship: cancel it."
    )
    assert Job.objects.get(pk=second.pk).status == "previewed"


def test_tomorrows_file_by_row_number_is_not_another_jobs_rows(
    ups_sandbox: SandboxController,
    approver: User,
    write_source: Callable[[str, bytes], Path],
) -> None:
    write_source("orders.csv", csv_bytes(order_rows(2)))
    source = DataSourceFactory.create(kind="csv", file_path="orders.csv", key_column="")
    today = previewed_job(source, approver)
    job_approve(job=today, acting_user=approver, in_background=False)
    rows = order_rows(4)
    write_source("orders.csv", csv_bytes([rows[0], *rows[3:]]))  # other orders on rows 1 and 2

    tomorrow = previewed_job(source, approver)

    job_approve(job=tomorrow, acting_user=approver, in_background=False)
    assert Job.objects.get(pk=tomorrow.pk).status == "approved"


def assert_each_order_shipped_once(sandbox: SandboxController) -> None:
    assert set(shipments_per_order(sandbox).values()) == {1}


def test_a_failed_job_holds_its_failed_rows_until_it_is_resumed_or_cancelled(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    source = orders_csv(6)
    ups_sandbox.set_fault("reject_address", endpoint="ship", address_lines=["106 Main St"])
    first = ship_all(previewed_job(source, approver), approver)
    assert first.status == "failed"  # row 6 refused: resume retries it
    ups_sandbox.clear_faults()
    second = previewed_job(source, approver)  # rows 1-5 left out: row 6 only

    with pytest.raises(DomainError) as refused:
        job_approve(job=second, acting_user=approver, in_background=False)
    assert refused.value.code == "rows_in_another_job"
    assert refused.value.message.startswith(f"{first} (failed) may still ship")

    assert resume_to_end(first, approver).status == "completed"
    with pytest.raises(DomainError) as nothing_left:
        job_approve(job=second, acting_user=approver, in_background=False)
    assert nothing_left.value.code == "nothing_left_to_ship"
    assert_each_order_shipped_once(ups_sandbox)


@pytest.mark.parametrize("settled_by", ["resume", "a person on the cancelled job"])
def test_rows_settled_after_a_crash_count_as_shipped_by_that_job(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
    settled_by: str,
) -> None:
    source = orders_csv(6)
    first = crashed_job(source, approver, monkeypatch, at_call=4, before=False)
    assert statuses(first)[3] == "unknown"  # UPS shipped it; the worker died first
    second = previewed_job(source, approver)  # rows 4-6
    with pytest.raises(DomainError) as refused:
        job_approve(job=second, acting_user=approver, in_background=False)
    assert refused.value.code == "rows_in_another_job"

    if settled_by == "resume":
        assert resume_to_end(first, approver).status == "completed"  # row 4 found, 5-6 shipped
    else:
        job_cancel(job=first, actor=approver, reason="Settling by hand.")
        with pytest.raises(DomainError) as still:
            job_approve(job=second, acting_user=approver, in_background=False)
        assert still.value.message.startswith(
            f"{first} (cancelled) may still ship row 4 of {second}, or may have shipped it: "
            "approving both would ship that order twice."
        )
        assert "Settle those rows on its page first (mark each shipped" in still.value.message
        row = JobRow.objects.get(job=first, row_number=4)
        [shipment] = ups_sandbox.ledger(reference=row.reference)
        row_decide_unknown(row=row, actor=approver, tracking_number=shipment["tracking_number"])
        ship_all(second, approver)
        assert statuses(second) == ["skipped", "shipped", "shipped"]

    assert_each_order_shipped_once(ups_sandbox)
