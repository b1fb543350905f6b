"""What a stopped job tells the operator, and an approval with nothing to ship."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from datasources.models import DataSource
from jobs.models import JobRow
from jobs.services.approval import job_approve, job_exclude_rows
from jobs.services.cancel import job_cancel
from jobs.services.execution import DEFINITIVE_ADVICE
from jobs.services.recovery import SOURCE_CHANGED, job_recovery_summary
from jobs.states import JobStatus, RowStatus
from jobs.summaries import job_progress
from shipops.errors import DomainError
from tests.factories import JobFactory, JobRowFactory, ShippedJobRowFactory
from tests.fixtures.sources import order_rows
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import previewed_job, ship_all

pytestmark = pytest.mark.django_db


def test_a_job_whose_every_row_was_excluded_has_nothing_to_approve(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    job = previewed_job(orders_csv(2), approver)
    job_exclude_rows(job=job, actor=approver, row_ids=[row.pk for row in JobRow.objects.all()])

    with pytest.raises(DomainError) as refused:
        job_approve(job=job, acting_user=approver, in_background=False)

    assert (refused.value.code, refused.value.message) == (
        "nothing_left_to_ship",
        f"{job} has no rows left to ship (every row was excluded or skipped): there is nothing "
        "to approve; cancel it.",
    )
    job.refresh_from_db()
    assert job.status == JobStatus.PREVIEWED


def test_a_job_stopped_by_a_changed_row_does_not_promise_that_resume_retries_it() -> None:
    job = JobFactory.create(
        status=JobStatus.FAILED,
        row_count=5,
        skipped_count=2,
        last_error_code=SOURCE_CHANGED,
        last_error_message="Row 4 (key 4) changed in the source after the job was created.",
    )
    for number in (1, 2):
        JobRowFactory.create(job=job, row_number=number, status=RowStatus.SKIPPED)
    ShippedJobRowFactory.create(job=job, row_number=3, tracking_number="1Z999AA10123456784")
    for number in (4, 5):
        JobRowFactory.create(job=job, row_number=number)

    summary = job_recovery_summary(job)

    # Row numbers run over the job's five rows; two of them are left to ship.
    assert summary.headline.startswith(f"{job} stopped at row 4 of 5. Last: row 3 (")
    assert summary.headline.endswith("2 remaining.")
    assert summary.last_error == (
        "Stopped at row 4 due to: Row 4 (key 4) changed in the source after the job was created."
    )


def test_the_headline_names_the_source_row_and_its_place_when_they_differ() -> None:
    # A file of 13 orders whose rows 1 to 5 were left out as shipped: the job's
    # 8 rows are numbered 6 to 13, and row 9 is the 4th of them, not "9/8".
    job = JobFactory.create(status=JobStatus.FAILED, row_count=8, last_error_message="Boom.")
    for number in range(6, 9):
        ShippedJobRowFactory.create(job=job, row_number=number)
    for number in range(9, 14):
        JobRowFactory.create(job=job, row_number=number)

    summary = job_recovery_summary(job)

    assert summary.headline.startswith(f"{job} stopped at row 9, the 4th of its 8 rows. Last:")


def test_a_finished_preview_counts_only_the_rows_it_rates() -> None:
    # Rows with errors are never rated: after the preview, 3 of 3 (not 3 of 7) and 100 %.
    job = JobFactory.create(
        status=JobStatus.PREVIEWED, row_count=7, invalid_count=4, previewed_count=3
    )

    progress = job_progress(job)

    assert (progress.done, progress.total, progress.percent) == (3, 3, 100)


# How UPS stops a batch of 6 at row 4, and the advice the stop gives besides "Resume will retry".
STOPS: dict[str, tuple[dict[str, Any], str, str]] = {
    "refused": ({"postal_codes": ["30305"]}, "reject_address", f" {DEFINITIVE_ADVICE}"),
    "never-reached-ups": ({"after": 3, "retry_after": 1}, "http_429", ""),
}


@pytest.mark.parametrize("stop", STOPS)
def test_a_stopped_jobs_advice_is_given_once_and_only_while_it_can_be_resumed(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    stop: str,
) -> None:
    options, fault, advice = STOPS[stop]
    rows = order_rows(6)
    rows[4][5] = "30305"
    ups_sandbox.set_fault(fault, endpoint="ship", **options)
    job = ship_all(previewed_job(orders_csv(6, rows=rows), approver), approver)
    assert job.status == JobStatus.FAILED
    error = job.last_error_message
    assert error.startswith("Row 4: ")
    assert "resume" not in error.lower()  # the error alone: its advice is kept apart

    assert job_recovery_summary(job).last_error == (
        f"Stopped at row 4 due to: {error.rstrip('.')}.{advice} Resume will retry row 4."
    )

    job_cancel(job=job, actor=approver)

    # Cancelled, it can no longer be resumed: the error is said as it was, without advice.
    assert job_recovery_summary(job).last_error == f"Stopped at row 4 due to: {error.rstrip('.')}."
    assert JobRow.objects.get(job=job, row_number=4).error_message in ("", error)


def test_a_running_jobs_recovery_says_where_it_is_not_that_it_stopped() -> None:
    job = JobFactory.create(status=JobStatus.RUNNING, row_count=10, shipped_count=3)
    for number in (1, 2, 3):
        ShippedJobRowFactory.create(
            job=job, row_number=number, tracking_number=f"1Z999AA1012345678{number}"
        )
    JobRowFactory.create(job=job, row_number=4, status=RowStatus.IN_FLIGHT)
    for number in range(5, 11):
        JobRowFactory.create(job=job, row_number=number)

    headline = job_recovery_summary(job).headline

    assert headline.startswith(f"{job} is running, now at row 4 of 10. Last: row 3 (")
    assert "stopped" not in headline
    assert headline.endswith("7 remaining.")
