"""Read paths shared by the admin, the JSON views and the commands (STYLE.md item 2)."""

from __future__ import annotations

from django.db.models import QuerySet

from jobs.models import AuditEntry, Job, JobRow
from jobs.states import RowStatus


def job_list() -> QuerySet[Job]:
    """Jobs with what a list shows joined in one query."""
    return Job.objects.select_related("data_source", "created_by", "approved_by")


def job_rows(*, job_id: int | None = None) -> QuerySet[JobRow]:
    """Rows in source order, each with its job joined."""
    rows = JobRow.objects.select_related("job").order_by("job_id", "row_number")
    if job_id is not None:
        rows = rows.filter(job_id=job_id)
    return rows


# How people read a pending row with errors (it cannot ship as it is): "Has errors".
# Stored as pending; the rows table, the Job rows list and the export show it apart.
HAS_ERRORS = "has_errors"
SHOWN_ROW_STATUSES = (*RowStatus.values, HAS_ERRORS)


def rows_shown_as(rows: QuerySet[JobRow], shown: str) -> QuerySet[JobRow]:
    """Keep the ``rows`` a person sees with the status ``shown`` (one of SHOWN_ROW_STATUSES).

    "Pending" and "Has errors" never share a row: a pending row with errors is
    shown as having errors only.
    """
    if shown == HAS_ERRORS:
        return rows.filter(status=RowStatus.PENDING, is_valid=False)
    if shown == RowStatus.PENDING:
        return rows.filter(status=RowStatus.PENDING, is_valid=True)
    return rows.filter(status=shown)


def rows_without_label(*, job_id: int) -> QuerySet[JobRow]:
    """A job's shipped rows that have no label, in row order."""
    return JobRow.objects.filter(job_id=job_id, status=RowStatus.SHIPPED, label="").order_by(
        "row_number"
    )


def audit_trail(*, job_id: int | None = None) -> QuerySet[AuditEntry]:
    """Audit entries newest first, with the job, row and user each list shows."""
    entries = AuditEntry.objects.select_related("job", "row", "actor")
    if job_id is not None:
        entries = entries.filter(job_id=job_id)
    return entries


def creation_notices(job: Job) -> list[str]:
    """Return what the job's source read said about how it was read (its creation entry)."""
    data = (
        AuditEntry.objects.filter(job=job, action="job_created")
        .values_list("data", flat=True)
        .first()
    )
    return list((data or {}).get("notices", []))
