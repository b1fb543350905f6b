"""Find the job or row a URL names, with what the serializers read joined in, or answer 404."""

from __future__ import annotations

from django.db.models import QuerySet

from jobs.api.http import ApiError
from jobs.models import Job, JobRow
from jobs.selectors import job_list, job_rows


def api_jobs() -> QuerySet[Job]:
    """Jobs with everything ``job_dict`` reads joined in: one query for any page."""
    return (
        job_list()
        .select_related("last_error_row")
        .defer("last_error_row__shipment", "last_error_row__errors", "last_error_row__warnings")
    )


def get_job(job_id: int, jobs: QuerySet[Job] | None = None) -> Job:
    """Return job ``job_id`` from ``jobs`` (by default ``api_jobs()``), or raise a 404."""
    try:
        return (api_jobs() if jobs is None else jobs).get(pk=job_id)
    except Job.DoesNotExist:
        raise ApiError(404, "not_found", f"There is no job {job_id}.") from None


def get_row(job_id: int, row_id: int) -> JobRow:
    """Return row ``row_id`` of job ``job_id``, or raise a 404."""
    try:
        return job_rows(job_id=job_id).get(pk=row_id)
    except JobRow.DoesNotExist:
        raise ApiError(404, "not_found", f"Job {job_id} has no row with id {row_id}.") from None
