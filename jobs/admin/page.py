"""What a job's admin page shows; every part takes a fixed number of queries, whatever the rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode

from jobs import selectors
from jobs.admin.buttons import RECOVERABLE, job_buttons
from jobs.models import Job, JobRow
from jobs.selectors import HAS_ERRORS, SHOWN_ROW_STATUSES
from jobs.services.approval import PendingRows, job_approve_refusal
from jobs.services.reconcile import duration_text, rows_awaiting_ups
from jobs.services.recovery import job_recovery_summary
from jobs.services.restart import job_restart_refusal
from jobs.states import JobStatus, RowStatus, WritebackStatus
from jobs.summaries import job_progress, preview_summary
from shipops.words import counted
from ups.config import UpsConfig

LIVE_STATUSES = frozenset({JobStatus.PREVIEWING, JobStatus.APPROVED, JobStatus.RUNNING})
ROWS_PER_PAGE = 25
AUDIT_SHOWN = 10
UNKNOWN_SHOWN = 20
UNLABELLED_SHOWN = 10
ROW_FIELDS = (
    "pk", "job_id", "row_number", "source_key", "shipment", "status", "tracking_number",
    "estimated_cost_cents", "actual_cost_cents", "label", "label_format", "error_message",
    "writeback_status", "writeback_error", "reference", "errors", "is_valid", "recipient_as_read",
)  # fmt: skip


def progress_payload(job: Job) -> dict[str, Any]:
    """Return the job's progress as the page draws it and the progress JSON view sends it."""
    progress = job_progress(job)
    if job.status in (JobStatus.DRAFT, JobStatus.PREVIEWING, JobStatus.PREVIEWED):
        text = f"{progress.done} of {counted(progress.total, 'row')} rated"
    else:
        text = f"{progress.shipped} of {counted(progress.total, 'row')} shipped"
        if progress.failed:
            text += f", {progress.failed} failed"
    return {
        "job": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "done": progress.done,
        "total": progress.total,
        "percent": progress.percent,
        "shipped": progress.shipped,
        "failed": progress.failed,
        "text": text,
        "live": job.status in LIVE_STATUSES,
    }


def page_progress(job: Job) -> dict[str, Any]:
    """Return the job page's progress: ``progress_payload`` and the rows awaiting UPS.

    A stopped job (cancelled, interrupted, failed) whose row UPS may still
    answer stays live: the page reloads when that answer comes or can no
    longer come. The jobs list draws ``progress_payload`` only (no row query).
    """
    progress = progress_payload(job)
    awaiting = 0 if progress["live"] else rows_awaiting_ups(job)
    progress["awaiting_ups"] = awaiting
    progress["live"] = progress["live"] or bool(awaiting)
    return progress


@dataclass(frozen=True)
class StatusTab:
    """One status filter above the rows table."""

    status: str
    label: str
    count: int
    url: str
    current: bool


@dataclass(frozen=True)
class RowCounts:
    """How many rows a job has in each status, and the counts its buttons depend on."""

    by_status: dict[str, int]
    invalid_pending: int
    writeback_failed: int


def row_counts(job: Job) -> RowCounts:
    """Count the job's rows by status in one query."""
    groups = (
        JobRow.objects.filter(job=job)
        .values("status")
        .annotate(
            n=Count("pk"),
            invalid=Count("pk", filter=Q(is_valid=False)),
            writeback_failed=Count("pk", filter=Q(writeback_status=WritebackStatus.FAILED)),
        )
        .order_by()
    )
    by_status, invalid, failed = {}, 0, 0
    for group in groups:
        by_status[group["status"]] = group["n"]
        if group["status"] == RowStatus.PENDING:
            invalid = group["invalid"]
        if group["status"] == RowStatus.SHIPPED:
            failed = group["writeback_failed"]
    return RowCounts(by_status, invalid, failed)


def rows_table(request: HttpRequest, job: Job, counts: RowCounts) -> dict[str, Any]:
    """Return one page of the job's rows, filtered by the status the page asked for."""
    wanted = request.GET.get("rows_status", "")
    status = wanted if wanted in SHOWN_ROW_STATUSES else ""
    rows = JobRow.objects.filter(job=job).order_by("row_number").only(*ROW_FIELDS)
    if status:
        rows = selectors.rows_shown_as(rows, status)
    page: Page[JobRow] = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("rows_page"))
    total = sum(counts.by_status.values())
    tabs = [StatusTab("", "All", total, "?#rows", not status)]
    for value, label, count in _shown_counts(counts):
        if count:
            tabs.append(StatusTab(value, label, count, _rows_query(value), value == status))
    changelist = reverse("admin:jobs_jobrow_changelist")
    filters: dict[str, str | int] = {"job__id__exact": job.pk}
    if status:  # the same filter on the Job rows list (RowStatusFilter)
        filters["status"] = status
    return {
        "page": page,
        "status": status,
        "tabs": tabs,
        "changelist_url": f"{changelist}?{urlencode(filters)}",
    }


def _shown_counts(counts: RowCounts) -> list[tuple[str, str, int]]:
    """Each status as people read it, with its label and count: "Has errors" after
    "Pending", whose count leaves those rows out."""
    shown = []
    for value, label in RowStatus.choices:
        count = counts.by_status.get(value, 0)
        if value == RowStatus.PENDING:
            shown.append((value, str(label), count - counts.invalid_pending))
            shown.append((HAS_ERRORS, "Has errors", counts.invalid_pending))
        else:
            shown.append((value, str(label), count))
    return shown


def _rows_query(status: str) -> str:
    return f"?{urlencode({'rows_status': status})}#rows"


def label_formats(job: Job) -> dict[str, int]:
    """Return how many labels of shipped rows (not voided) the job has in each format."""
    groups = (
        JobRow.objects.filter(job=job, status=RowStatus.SHIPPED)
        .exclude(label="")
        .values("label_format")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {group["label_format"].upper(): group["n"] for group in groups}


# The statuses whose page may offer Approve (a draft in auto mode, a previewed job).
APPROVAL_STATUSES = frozenset({JobStatus.DRAFT, JobStatus.PREVIEWED})


def _refusals(job: Job, counts: RowCounts) -> dict[str, str]:
    """Why the job cannot take an action its buttons offer, whoever asks: the services' words."""
    refusals = {}
    if job.status in RECOVERABLE and (restart := job_restart_refusal(job)):
        refusals["restart_job"] = restart.message
    if job.status in APPROVAL_STATUSES:
        pending = PendingRows(counts.by_status.get(RowStatus.PENDING, 0), counts.invalid_pending)
        if approve := job_approve_refusal(job, pending=pending):
            refusals["approve_jobs"] = refusals["approve_jobs_switch_to_auto"] = approve.message
    return refusals


def job_page_context(
    request: HttpRequest, job: Job, *, allowed: set[str], can_decide: bool
) -> dict[str, Any]:
    """Return everything the job page template draws; ``allowed`` names the user's actions."""
    counts = row_counts(job)
    bar, banner = job_buttons(
        status=job.status,
        mode=job.mode,
        invalid_pending=bool(counts.invalid_pending),
        writeback_failed=bool(counts.writeback_failed),
        allowed=allowed,
        refusals=_refusals(job, counts),
    )
    unknown: list[JobRow] = []
    if counts.by_status.get(RowStatus.UNKNOWN):
        unknown = list(
            JobRow.objects.filter(job=job, status=RowStatus.UNKNOWN)
            .order_by("row_number")
            .only(*ROW_FIELDS)[:UNKNOWN_SHOWN]
        )
    audit_url = reverse("admin:jobs_auditentry_changelist") + f"?job__id__exact={job.pk}"
    unknown_filter: dict[str, str | int] = {
        "job__id__exact": job.pk,
        "status": RowStatus.UNKNOWN,
    }
    return {
        "job": job,
        "progress": page_progress(job),
        "preview": preview_summary(job),
        # Until shipping starts the page leads with the preview; from then on with the rows.
        "preview_first": job.started_at is None,
        "recovery": job_recovery_summary(job) if job.status in RECOVERABLE else None,
        "bar_buttons": bar,
        "banner_buttons": banner,
        "needs_approver": any(not button.enabled for button in bar + banner),
        "can_decide": can_decide,
        "unknown_rows": unknown,
        "unknown_count": counts.by_status.get(RowStatus.UNKNOWN, 0),
        "ups_answer_window": duration_text(UpsConfig.from_settings().longest_ship_call_seconds()),
        "unknown_url": f"{reverse('admin:jobs_jobrow_changelist')}?{urlencode(unknown_filter)}",
        "invalid_pending": counts.invalid_pending,
        "rows": rows_table(request, job, counts),
        "labels": label_formats(job),
        "unlabelled": list(
            selectors.rows_without_label(job_id=job.pk).values_list(
                "row_number", "tracking_number"
            )[:UNLABELLED_SHOWN]
        ),
        "unlabelled_shown": UNLABELLED_SHOWN,
        "audit_entries": list(selectors.audit_trail(job_id=job.pk)[:AUDIT_SHOWN]),
        "audit_url": audit_url,
    }
