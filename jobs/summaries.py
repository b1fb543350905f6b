"""What the preview and the progress views show, computed once for admin, JSON and commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum

from jobs.models import Job, JobRow
from jobs.states import JobMode, JobStatus, RowStatus
from shipops.money import format_cents
from shipops.words import counted
from ups.service_codes import service_name

PREVIEW_LINES = 20
# Rows that are part of the batch (not excluded or cancelled).
IN_BATCH = ~Q(status__in=[RowStatus.SKIPPED, RowStatus.CANCELLED])
# A preview line's fields: a row with errors has no shipment, but what could be read of it.
PREVIEW_FIELDS = (
    "row_number", "shipment", "recipient_as_read", "city_as_read", "state_as_read",
    "service_code_as_read", "estimated_cost_cents", "warnings", "errors",
)  # fmt: skip


@dataclass(frozen=True)
class PreviewLine:
    number: int
    recipient: str
    city_state: str
    service: str
    estimated_cost_cents: int | None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Estimate:
    """A batch's estimated cost: the sum over its rated rows, and how many rows it covers.

    A row not rated has no estimate (not $0.00): a batch with no rated row has
    no estimate at all, and one missing some rows' estimates says so.
    """

    cents: int
    rated: int  # rows with an estimate
    rows: int  # rows that will ship (rows with errors are never rated)
    currency: str
    not_rated: str = "not rated yet"  # what is said when no row is rated

    @property
    def total_cents(self) -> int | None:
        """Return the sum of the rated rows' estimates, or None when no row is rated."""
        return self.cents if self.rated else None

    @property
    def unrated(self) -> int:
        """Return how many rows that will ship have no estimate."""
        return max(0, self.rows - self.rated)

    def __str__(self) -> str:
        """Return "$29.43", "not rated yet", or "$29.43 for 2 of 3 rows; 1 row not rated"."""
        return self._said("")

    @property
    def as_estimated(self) -> str:
        """Return "$29.43 estimated", "not rated yet" or "$29.43 estimated for 2 of 3 rows; ..."."""
        return self._said(" estimated")

    def _said(self, estimated: str) -> str:
        if not self.rated:
            return self.not_rated
        amount = format_cents(self.cents, self.currency) + estimated
        if not self.unrated:
            return amount
        return (
            f"{amount} for {self.rated} of {counted(self.rows, 'row')}; "
            f"{counted(self.unrated, 'row')} not rated"
        )


@dataclass(frozen=True)
class PreviewSummary:
    lines: list[PreviewLine]
    more: int
    total_rows: int
    estimate: Estimate
    currency: str
    rows_with_warnings: int
    rows_with_errors: int

    @property
    def total_cost_cents(self) -> int | None:
        """Return the estimated cost of the batch, or None when no row of it is rated."""
        return self.estimate.total_cents


def batch_totals(job_id: int, *, batch: Q = IN_BATCH) -> dict[str, int]:
    """Count the batch's rows; sum their estimates; count the rated, warned and invalid ones."""
    return JobRow.objects.filter(batch, job_id=job_id).aggregate(
        count=Count("pk"),
        cost=Sum("estimated_cost_cents", default=0),
        rated=Count("pk", filter=Q(estimated_cost_cents__isnull=False)),
        warned=Count("pk", filter=~Q(warnings=[])),
        invalid=Count("pk", filter=Q(is_valid=False)),
    )


def rated_so_far(job: Job) -> dict[str, int]:
    """Return the job fields that hold the estimate of the rows rated so far (a stopped preview's).

    Its rows keep their rates, so the job says what they come to and how many they are.
    """
    totals = batch_totals(job.pk)
    return {
        "estimated_cost_cents": totals["cost"],
        "previewed_count": totals["rated"],
        "warning_count": totals["warned"],
    }


def job_estimate(job: Job) -> Estimate:
    """Return ``job``'s estimate from its counters (no query).

    ``previewed_count`` is the rows of the batch its estimate covers once a
    preview ends (or another job's preview is taken); while a preview runs,
    nothing is estimated yet.
    """
    rated = 0 if job.status == JobStatus.PREVIEWING else job.previewed_count
    to_ship = max(rated, job.row_count - job.skipped_count - job.invalid_count)
    return Estimate(job.estimated_cost_cents, rated, to_ship, job.currency, _not_rated(job))


def _not_rated(job: Job) -> str:
    """What ``job``'s estimate says while no row of it is rated."""
    # An auto-mode job ships without a preview: no rating is on its way.
    return "not rated in auto mode" if job.mode == JobMode.AUTO else "not rated yet"


def preview_summary(job: Job, *, limit: int = PREVIEW_LINES) -> PreviewSummary:
    """Return the first ``limit`` rows of the batch and the totals over all of it (2 queries).

    A cancelled job's preview is shown as it was: its cancelled rows were in
    the batch then, and its estimate still counts them.
    """
    batch = ~Q(status=RowStatus.SKIPPED) if job.status == JobStatus.CANCELLED else IN_BATCH
    totals = batch_totals(job.pk, batch=batch)
    rows = JobRow.objects.filter(job=job).filter(batch)
    first = rows.order_by("row_number").only(*PREVIEW_FIELDS)[:limit]
    lines = [
        PreviewLine(
            number=row.row_number,
            recipient=row.recipient,
            city_state=row.city_state,
            service=service_name(row.service_code) if row.service_code else "",
            estimated_cost_cents=row.estimated_cost_cents,
            warnings=row.warnings,
            errors=row.errors,
        )
        for row in first
    ]
    return PreviewSummary(
        lines=lines,
        more=max(0, totals["count"] - len(lines)),
        total_rows=totals["count"],
        estimate=Estimate(
            totals["cost"],
            totals["rated"],
            totals["count"] - totals["invalid"],
            job.currency,
            _not_rated(job),
        ),
        currency=job.currency,
        rows_with_warnings=totals["warned"],
        rows_with_errors=totals["invalid"],
    )


@dataclass(frozen=True)
class Progress:
    status: str
    done: int
    total: int
    percent: int
    shipped: int
    failed: int


def job_progress(job: Job) -> Progress:
    """Return how far a job's preview or execution has come, from its counters (no row query)."""
    total = max(0, job.row_count - job.skipped_count)
    if job.status in (JobStatus.DRAFT, JobStatus.PREVIEWING, JobStatus.PREVIEWED):
        done = job.previewed_count
        total = max(0, total - job.invalid_count)  # rows with errors are never rated
    else:
        done = job.shipped_count + job.failed_count
    percent = 100 if total == 0 else min(100, round(100 * done / total))
    return Progress(
        status=job.status,
        done=min(done, total),
        total=total,
        percent=percent,
        shipped=job.shipped_count,
        failed=job.failed_count,
    )


def rows_numbered(numbers: list[int]) -> str:
    """Return sorted row numbers as ``row 7`` or ``rows 1-3, 5`` (lower case)."""
    return ("row " if len(numbers) == 1 else "rows ") + number_ranges(numbers)


def number_ranges(numbers: list[int]) -> str:
    """Return sorted row numbers as ``1-3, 5, 7-9``."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
