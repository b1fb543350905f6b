"""Turn jobs, rows and summaries into the API's JSON: times ISO 8601 with offset, money in cents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from jobs.filters import describe_stored, filter_parts
from jobs.models import Job, JobRow
from jobs.services.recovery import RecoverySummary
from jobs.states import RowStatus
from jobs.summaries import PreviewSummary, job_estimate, job_progress


def iso(value: datetime | None) -> str | None:
    """Return an aware time as ISO 8601 with its offset, in the project's time zone."""
    return timezone.localtime(value).isoformat() if value else None


def money(cents: int | None, currency: str) -> dict[str, Any] | None:
    """Return an amount as integer cents with its currency, or None when unknown."""
    return None if cents is None else {"cents": cents, "currency": currency}


def last_error(job: Job) -> dict[str, Any] | None:
    """Return the job's last error with the row it happened on (needs last_error_row joined)."""
    if not (job.last_error_code or job.last_error_message):
        return None
    row = job.last_error_row
    return {
        "code": job.last_error_code,
        "message": job.last_error_message,
        "row_id": row.pk if row else None,
        "row_number": row.row_number if row else None,
    }


def progress_dict(job: Job) -> dict[str, Any]:
    """Return how far the job has come, from its counters only."""
    progress = job_progress(job)
    return {
        "status": progress.status,
        "done": progress.done,
        "total": progress.total,
        "percent": progress.percent,
        "shipped": progress.shipped,
        "failed": progress.failed,
    }


def job_dict(job: Job) -> dict[str, Any]:
    """Return a job as the API shows it in lists and on its own (no extra query)."""
    source = job.data_source
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "mode": job.mode,
        "data_source": {"id": source.pk, "name": source.name, "kind": source.kind},
        "filter": filter_parts(job.filter),
        "filter_description": describe_stored(job.filter),
        "counts": {
            "rows": job.row_count,
            "invalid": job.invalid_count,
            "previewed": job.previewed_count,
            "with_warnings": job.warning_count,
            "shipped": job.shipped_count,
            "failed": job.failed_count,
            "skipped": job.skipped_count,
            "writeback_failed": job.writeback_failed_count,
            "already_shipped": job.already_shipped_count,
        },
        "estimated_cost": money(job_estimate(job).total_cents, job.currency),
        "actual_cost": money(job.actual_cost_cents, job.currency),
        "progress": progress_dict(job),
        "last_error": last_error(job),
        "resume_count": job.resume_count,
        "created_by": job.created_by.get_username() if job.created_by else None,
        "approved_by": job.approved_by.get_username() if job.approved_by else None,
        "created_at": iso(job.created_at),
        "approved_at": iso(job.approved_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "updated_at": iso(job.updated_at),
    }


def row_dict(row: JobRow) -> dict[str, Any]:
    """Return a job row with its shipment, its state and what UPS gave back for it."""
    currency = row.job.currency
    return {
        "id": row.pk,
        "job_id": row.job_id,
        "number": row.row_number,
        "source_key": row.source_key,
        "status": row.status,
        "recipient": row.recipient,
        "shipment": row.shipment,
        "is_valid": row.is_valid,
        "errors": row.errors,
        "warnings": row.warnings,
        "attempts": row.attempts,
        "reference": row.reference,
        "estimated_cost": money(row.estimated_cost_cents, currency),
        # UPS does not charge a voided shipment: its row has no cost, as in the export.
        "actual_cost": None
        if row.status == RowStatus.VOIDED
        else money(row.actual_cost_cents, currency),
        "tracking_number": row.tracking_number or None,
        "shipment_id": row.shipment_id or None,
        "has_label": row.label_usable,  # a voided shipment's label must not be used
        "label_format": row.label_format or None,
        "shipped_at": iso(row.shipped_at),
        "error": {"code": row.error_code, "message": row.error_message}
        if row.error_code or row.error_message
        else None,
        "writeback": {"status": row.writeback_status, "error": row.writeback_error or None},
        "updated_at": iso(row.updated_at),
    }


def preview_dict(summary: PreviewSummary) -> dict[str, Any]:
    """Return the preview: its first lines, how many more, and the totals over every row."""
    return {
        "lines": [
            {
                "number": line.number,
                "recipient": line.recipient,
                "city_state": line.city_state,
                "service": line.service,
                "estimated_cost": money(line.estimated_cost_cents, summary.currency),
                "warning_count": len(line.warnings),
                "warnings": line.warnings,
                "errors": line.errors,
            }
            for line in summary.lines
        ],
        "more": summary.more,
        "total_rows": summary.total_rows,
        "total_estimated_cost": money(summary.total_cost_cents, summary.currency),
        "rows_with_warnings": summary.rows_with_warnings,
        "rows_with_errors": summary.rows_with_errors,
    }


def recovery_dict(
    job: Job,
    summary: RecoverySummary,
    restart_warning: str,
    restart_refusal: str,
    restart_source_changes: list[str],
) -> dict[str, Any]:
    """Return where a stopped job stopped, what a restart would duplicate, or why it cannot."""
    return {
        "job_id": job.pk,
        "status": job.status,
        "headline": summary.headline,
        "last_error": summary.last_error or None,
        "shipped_rows": summary.shipped_rows,
        "unknown_rows": summary.unknown_rows,
        "restart_warning": restart_warning or None,
        "restart_source_changes": restart_source_changes,
        "token": job.fencing_token,
        "restart_refusal": restart_refusal or None,
    }
