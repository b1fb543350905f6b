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
