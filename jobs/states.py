"""The legal life cycles of jobs, rows and write-backs: the one place that owns them.

DESIGN.md "States" is the source. Edges beyond the happy path are the
recovery ones: a ship request that provably never left goes back to
``pending``, a crash mid-call leaves ``unknown``, resume retries a ``failed``
row, restart after a void ships a ``voided`` row again.
"""

from __future__ import annotations

from django.db import models

from shipops.errors import DomainError


class JobStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PREVIEWING = "previewing", "Previewing"
    PREVIEWED = "previewed", "Previewed"
    APPROVED = "approved", "Approved"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    COMPLETED_WITH_WARNINGS = "completed_with_warnings", "Completed with warnings"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    INTERRUPTED = "interrupted", "Interrupted"


# Jobs that may still check rows against their source, ship, or write back without
# another preview: approved, shipping, or stopped and resumable.
UNDER_WAY = (JobStatus.APPROVED, JobStatus.RUNNING, JobStatus.INTERRUPTED, JobStatus.FAILED)


class RowStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_FLIGHT = "in_flight", "In flight"
    SHIPPED = "shipped", "Shipped"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Outcome unknown"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"
    VOIDED = "voided", "Voided"


class WritebackStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    WRITTEN = "written", "Written"
    FAILED = "failed", "Failed"


class JobMode(models.TextChoices):
    CONFIRM = "confirm", "Confirm (preview, then approve)"
    AUTO = "auto", "Auto (ship without preview)"


J, R, W = JobStatus, RowStatus, WritebackStatus

JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    J.DRAFT: frozenset({J.PREVIEWING, J.APPROVED, J.CANCELLED}),
    J.PREVIEWING: frozenset({J.PREVIEWED, J.DRAFT, J.CANCELLED}),
    J.PREVIEWED: frozenset({J.PREVIEWING, J.APPROVED, J.CANCELLED}),
    J.APPROVED: frozenset({J.RUNNING, J.CANCELLED, J.INTERRUPTED}),
    J.RUNNING: frozenset(
        {J.COMPLETED, J.COMPLETED_WITH_WARNINGS, J.FAILED, J.CANCELLED, J.INTERRUPTED}
    ),
    J.INTERRUPTED: frozenset({J.RUNNING, J.CANCELLED}),
    J.FAILED: frozenset({J.RUNNING, J.CANCELLED}),
    J.COMPLETED_WITH_WARNINGS: frozenset({J.COMPLETED}),
    J.COMPLETED: frozenset(),
    J.CANCELLED: frozenset(),
}

ROW_TRANSITIONS: dict[str, frozenset[str]] = {
    R.PENDING: frozenset({R.IN_FLIGHT, R.SKIPPED, R.CANCELLED}),
    R.IN_FLIGHT: frozenset({R.SHIPPED, R.FAILED, R.UNKNOWN, R.PENDING}),
    R.UNKNOWN: frozenset({R.SHIPPED, R.PENDING}),
    R.SHIPPED: frozenset({R.VOIDED}),
    R.FAILED: frozenset({R.PENDING, R.CANCELLED}),
    R.SKIPPED: frozenset({R.PENDING, R.CANCELLED}),
    R.VOIDED: frozenset({R.PENDING}),
    R.CANCELLED: frozenset(),
}

WRITEBACK_TRANSITIONS: dict[str, frozenset[str]] = {
    W.PENDING: frozenset({W.WRITTEN, W.FAILED}),
    W.FAILED: frozenset({W.WRITTEN, W.FAILED}),
    W.WRITTEN: frozenset({W.PENDING}),
}

JOB_ACTIVE_STATUSES = frozenset({J.PREVIEWING, J.RUNNING})
JOB_FINAL_STATUSES = frozenset(status for status, targets in JOB_TRANSITIONS.items() if not targets)


def job_statuses_leading_to(target: str) -> frozenset[str]:
    """The statuses a job may move to ``target`` from: the life cycle's own answer."""
    return frozenset(status for status, targets in JOB_TRANSITIONS.items() if target in targets)


# The statuses a stopped job may be resumed from: those it may run again from, but
# approved (a job's first start is not a resume). Advice to resume holds only there.
JOB_RESUMABLE_STATUSES = job_statuses_leading_to(J.RUNNING) - {J.APPROVED}


def _check(
    table: dict[str, frozenset[str]],
    labels: type[models.TextChoices],
    subject: str,
    current: str,
    target: str,
) -> None:
    allowed = table.get(current)
    if allowed is None:
        raise DomainError("unknown_status", f"{subject} has an unknown status {current!r}.")
    if target in allowed:
        return
    now, wanted = labels(current).label, labels(target).label if target in labels else target
    if allowed:
        choices = ", ".join(sorted(str(labels(s).label).lower() for s in allowed))
        hint = f" From {str(now).lower()} it can only become: {choices}."
    else:
        hint = f" {now} is final."
    raise DomainError(
        "illegal_transition",
        f"{subject} is {str(now).lower()} and cannot become {str(wanted).lower()}.{hint}",
        details={"from": current, "to": target},
    )


def check_job_transition(*, job_label: str, current: str, target: str) -> None:
    """Raise DomainError ``illegal_transition`` unless a job may go to ``target``."""
    _check(JOB_TRANSITIONS, JobStatus, job_label, current, target)


def check_row_transition(*, row_label: str, current: str, target: str) -> None:
    """Raise DomainError ``illegal_transition`` unless a row may go to ``target``."""
    _check(ROW_TRANSITIONS, RowStatus, row_label, current, target)


def check_writeback_transition(*, row_label: str, current: str, target: str) -> None:
    """Raise DomainError ``illegal_transition`` unless a row's write-back may change so."""
    _check(
        WRITEBACK_TRANSITIONS, WritebackStatus, f"The write-back of {row_label}", current, target
    )
