"""A job's estimated cost and warnings cover the rows it ships, after exclusions and restarts."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User

from datasources.models import DataSource
from jobs.api.serializers import job_dict, preview_dict
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.approval import job_approve, job_exclude_rows
from jobs.services.cancel import job_cancel
from jobs.services.creation import job_create
from jobs.services.execution import job_execute
from jobs.services.preview import job_preview_start
from jobs.services.restart import job_restart
from jobs.summaries import job_estimate, preview_summary
from shipops.errors import DomainError
from shipops.money import format_cents
from tests.fixtures.sources import csv_bytes, order_rows
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import previewed_job, ship_all
from tests.jobs.test_engine_cancel_restart import failed_at_row_4

pytestmark = pytest.mark.django_db


def varied_orders(count: int) -> list[list[str]]:
    """``count`` orders of different weights; the third ships to a company (no warning)."""
    rows = order_rows(count)
    for number, row in enumerate(rows[1:], start=1):
        row[7] = str(number * 3)  # weight: each row its own rate
    rows[3][1] = "Acme Supply Inc"
    return rows


@pytest.fixture
def varied_source(orders_csv: Callable[..., DataSource]) -> DataSource:
    return orders_csv(0, rows=varied_orders(6))


def row_estimates(job: Job) -> dict[int, int]:
    rows = JobRow.objects.filter(job=job).values_list("row_number", "estimated_cost_cents")
    return {number: cost for number, cost in rows if cost is not None}


def rows_with_warnings(job: Job) -> set[int]:
    rows = JobRow.objects.filter(job=job).exclude(warnings=[])
    return set(rows.values_list("row_number", flat=True))


def test_a_job_never_rated_has_no_estimate_rather_than_a_free_one(
    orders_csv: Callable[..., DataSource], approver: User
) -> None:
    rows = order_rows(3)
    rows[2][5] = "3030"  # not a ZIP code: the auto-mode job stays a draft, never previewed
    job = job_create(source=orders_csv(3, rows=rows), actor=approver, mode="auto")
    assert job.status == "draft"
    job_exclude_rows(job=job, actor=approver)

    assert str(job_estimate(job)) == "not rated in auto mode"  # and no rating is coming
    assert job_dict(Job.objects.get(pk=job.pk))["estimated_cost"] is None
    summary = preview_summary(job)
    assert str(summary.estimate) == "not rated in auto mode"
    assert preview_dict(summary)["total_estimated_cost"] is None


def test_a_preview_started_again_has_no_estimate_until_its_rows_are_rated_again(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    job = previewed_job(varied_source, approver)
    assert str(job_estimate(job)) == format_cents(sum(row_estimates(job).values()))

    job_preview_start(job=job, actor=approver, in_background=False)

    assert row_estimates(job) == {}  # the old rates are no longer this preview's
    assert str(job_estimate(Job.objects.get(pk=job.pk))) == "not rated yet"
    assert str(preview_summary(job).estimate) == "not rated yet"


def test_excluded_rows_leave_the_estimate_the_approver_confirms(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    job = previewed_job(varied_source, approver)
    costs = row_estimates(job)
    assert len(set(costs.values())) == 6  # six different rates: the sums below tell rows apart
    assert rows_with_warnings(job) == {1, 2, 4, 5, 6}  # residential, but the company
    assert job.estimated_cost_cents == sum(costs.values())

    excluded = JobRow.objects.filter(job=job, row_number__in=[2, 3]).values_list("pk", flat=True)
    job_exclude_rows(job=job, actor=approver, row_ids=list(excluded))

    job.refresh_from_db()
    assert job.estimated_cost_cents == costs[1] + costs[4] + costs[5] + costs[6]
    assert job.warning_count == 4
    summary = preview_summary(job)
    assert (summary.total_cost_cents, summary.rows_with_warnings) == (
        job.estimated_cost_cents,
        job.warning_count,
    )


def test_rows_skipped_at_approval_as_shipped_elsewhere_leave_the_estimate(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    first, second = previewed_job(varied_source, approver), previewed_job(varied_source, approver)
    JobRow.objects.filter(job=first, row_number__gt=2).update(status="skipped")
    ship_all(first, approver)  # rows 1-2
    costs = row_estimates(second)

    job_approve(job=second, acting_user=approver, in_background=False)

    second.refresh_from_db()
    assert second.skipped_count == 2
    assert second.estimated_cost_cents == sum(costs[number] for number in (3, 4, 5, 6))
    assert second.warning_count == 3  # rows 4-6; row 3 is the company


def test_a_restart_takes_the_preview_of_the_rows_it_ships_again(
    ups_sandbox: SandboxController,
    varied_source: DataSource,
    approver: User,
    write_source: Callable[[str, bytes], Path],
) -> None:
    job = failed_at_row_4(ups_sandbox, varied_source, approver)
    costs = row_estimates(job)
    edited = varied_orders(6)
    edited[5][7] = "40"  # row 5's weight changed since the preview
    write_source("orders.csv", csv_bytes(edited))

    new_job = job_restart(job=job, acting_user=approver, confirm_duplicates=True)

    copied = row_estimates(new_job)
    assert copied == {number: costs[number] for number in (1, 2, 3, 4, 6)}
    assert rows_with_warnings(new_job) == {1, 2, 4, 6}
    assert new_job.estimated_cost_cents == sum(copied.values())
    assert (new_job.previewed_count, new_job.warning_count) == (5, 4)
    # The total says which rows it leaves out, on the job and in its preview.
    partial = f"{format_cents(sum(copied.values()))} estimated for 5 of 6 rows; 1 row not rated"
    assert job_estimate(new_job).as_estimated == partial
    assert preview_summary(new_job).estimate.as_estimated == partial
    # It takes the orders of the job it restarts, not "all rows" of the source.
    shown = job_dict(Job.objects.get(pk=new_job.pk))
    assert shown["filter_description"] == f"the orders of {job}, which it restarts: rows 1-6"
    assert "described" not in shown["filter"]
    audit = AuditEntry.objects.get(job=new_job, action="preview_copied")
    assert audit.message.startswith(f"Took the preview of {job} for 5 unchanged rows: estimated ")
    assert audit.message.endswith(
        " No estimate for 1 row: changed since that preview, or not rated there."
    )
    assert audit.data == {
        "previewed": job.pk,
        "rows": 5,
        "unrated": 1,
        "rated_since": AuditEntry.objects.get(
            job=job, action="preview_started"
        ).created_at.isoformat(),
        "ship_from": AuditEntry.objects.get(job=job, action="preview_finished").data["ship_from"],
    }


def test_a_restart_refused_for_another_jobs_rows_says_to_restart_once_that_is_done(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    job = failed_at_row_4(ups_sandbox, varied_source, approver)
    other = previewed_job(varied_source, approver)  # rows 4-6: 1-3 have tracking numbers
    # Its row 5 may be at UPS (a worker died during its call): a person must settle it.
    JobRow.objects.filter(job=other, source_key="SO-00005").update(status="unknown")

    with pytest.raises(DomainError) as refused:
        job_restart(job=job, acting_user=approver, confirm_duplicates=True)

    new_job = Job.objects.exclude(pk__in=[job.pk, other.pk]).get()
    assert refused.value.code == "rows_in_another_job"
    assert refused.value.message.endswith(
        f"Finish it (resume a stopped job to the end, settle rows whose outcome is unknown) or "
        f"cancel it first. {new_job} was cancelled; once that is done, restart {job} again."
    )
    assert "skipped here" not in refused.value.message
    assert new_job.status == "cancelled"


def restarted(job: Job, approver: User) -> tuple[Job, AuditEntry]:
    new_job = job_restart(job=job, acting_user=approver, confirm_duplicates=True)
    return new_job, AuditEntry.objects.get(job=new_job, action="preview_copied")


def test_a_restart_after_the_ship_from_address_changed_has_no_estimate(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    job = failed_at_row_4(ups_sandbox, varied_source, approver)
    assert AuditEntry.objects.get(job=job, action="preview_finished").data["ship_from"]["city"]
    # The rows read the same, but ship from another warehouse: rated differently now.
    varied_source.ship_from_override = {"city": "Denver", "state": "CO", "postal_code": "80202"}
    varied_source.save()

    new_job, copied = restarted(job, approver)

    assert row_estimates(new_job) == {}
    assert (new_job.estimated_cost_cents, new_job.previewed_count) == (0, 0)
    assert copied.message == (
        "The ship-from address (the data source's override, or the warehouse's UPS_SHIP_FROM "
        f"settings) is not the one {job} was rated from. {new_job} takes none of its estimates: "
        "it has no estimated cost."
    )


def test_a_restart_after_the_warehouse_moved_has_no_estimate(
    ups_sandbox: SandboxController,
    varied_source: DataSource,
    approver: User,
    settings: LazySettings,
) -> None:
    job = failed_at_row_4(ups_sandbox, varied_source, approver)
    settings.UPS_SHIP_FROM = {**settings.UPS_SHIP_FROM, "city": "Denver", "state": "CO"}

    new_job, copied = restarted(job, approver)

    assert row_estimates(new_job) == {}
    assert copied.message.startswith("The ship-from address (the data source's override, or ")


def test_a_restart_keeps_the_estimates_through_a_save_that_changes_no_rate(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    job = failed_at_row_4(ups_sandbox, varied_source, approver)
    varied_source.name = "Orders, renamed"  # a save after the preview, nothing rated changed
    varied_source.save()

    new_job, copied = restarted(job, approver)

    assert row_estimates(new_job) == row_estimates(job)
    assert copied.data["rows"] == 6
    created = AuditEntry.objects.get(job=new_job, action="job_created")
    assert created.message.startswith(
        f"Created from {varied_source} (the orders of {job}, which it restarts): 6 rows, "
    )


def test_a_restart_after_a_setting_read_into_the_rows_changed_has_no_estimate(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    job = failed_at_row_4(ups_sandbox, varied_source, approver)
    varied_source.default_packaging_code = "21"  # every row reads into another shipment
    varied_source.save()

    new_job, copied = restarted(job, approver)

    assert row_estimates(new_job) == {}
    assert (copied.data["rows"], copied.data["unrated"]) == (0, 6)


def test_a_restart_copies_no_estimate_to_a_row_read_into_another_shipment(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    job = failed_at_row_4(ups_sandbox, varied_source, approver)
    # The same cells, read into another shipment (a setting changed without a save).
    DataSource.objects.filter(pk=varied_source.pk).update(default_packaging_code="21")

    new_job, copied = restarted(job, approver)

    assert row_estimates(new_job) == {}
    assert (copied.data["rows"], copied.data["unrated"], copied.data["rated_since"]) == (0, 6, None)


def test_a_restart_of_a_job_never_previewed_says_it_has_no_estimate(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    ups_sandbox.set_fault("reject_address", endpoint="ship", address_lines=["104 Main St"])
    job = job_create(source=varied_source, actor=approver, mode="auto")
    job = ship_all(job, approver)
    ups_sandbox.clear_faults()

    new_job, copied = restarted(job, approver)

    assert row_estimates(new_job) == {}
    assert copied.message == (
        f"{job} holds no finished preview (an auto-mode job is never previewed): {new_job} has "
        "no estimated cost."
    )


def test_a_restart_of_a_restarted_job_takes_the_first_preview_again(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    job = failed_at_row_4(ups_sandbox, varied_source, approver)
    costs = row_estimates(job)
    ups_sandbox.set_fault("reject_address", endpoint="ship", address_lines=["104 Main St"])
    second = restarted(job, approver)[0]  # approved: its worker fails at row 4 again
    job_execute(job_id=second.pk, token=second.fencing_token, slice_seconds=math.inf)
    ups_sandbox.clear_faults()
    second.refresh_from_db()
    assert second.status == "failed"

    third, copied = restarted(second, approver)

    assert row_estimates(third) == costs
    assert copied.data["rows"] == 6
    assert copied.message.startswith(f"Took the preview of {second} for 6 unchanged rows")


def test_a_cancelled_jobs_preview_shows_the_batch_its_estimate_was_for(
    ups_sandbox: SandboxController, varied_source: DataSource, approver: User
) -> None:
    job = previewed_job(varied_source, approver)
    JobRow.objects.filter(job=job, row_number=6).update(is_valid=False)
    job_exclude_rows(job=job, actor=approver)  # row 6 leaves the batch and its estimate
    job.refresh_from_db()
    estimate = job.estimated_cost_cents

    job_cancel(job=job, actor=approver)
    job.refresh_from_db()

    summary = preview_summary(job)
    assert (summary.total_rows, summary.total_cost_cents) == (5, estimate)
    assert job.estimated_cost_cents == estimate
