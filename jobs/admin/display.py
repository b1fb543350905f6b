"""How a job's columns and read-only fields read in the admin: status, progress, counts, money."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import SafeString

from jobs.admin.page import progress_payload
from jobs.filters import describe_stored
from jobs.models import Job
from jobs.summaries import job_estimate
from shipops.errors import DomainError
from shipops.money import format_cents
from shipops.words import counted


def status_badge(job: Job) -> SafeString:
    """Return the job's status as a coloured label."""
    return format_html(
        '<span class="job-status job-status-{}" data-testid="job-status">{}</span>',
        job.status,
        job.get_status_display(),
    )


def progress_bar(job: Job, *, testid: str = "job-progress") -> SafeString:
    """Return a progress bar with its text, from the job's counters (no row query)."""
    progress = progress_payload(job)
    return format_html(
        '<progress class="job-progress" max="100" value="{}" aria-valuenow="{}" '
        'aria-valuemin="0" aria-valuemax="100" aria-label="{}" data-testid="{}"></progress> '
        '<span class="job-progress-text" data-testid="{}-text">{}</span>',
        progress["percent"],
        progress["percent"],
        progress["text"],
        testid,
        testid,
        progress["text"],
    )


class JobDisplay:
    """Display methods shared by the job list and the job page."""

    @admin.display(description="Status", ordering="status")
    def status_label(self, job: Job) -> SafeString:
        return status_badge(job)

    @admin.display(description="Progress")
    def progress(self, job: Job) -> SafeString:
        return progress_bar(job, testid=f"job-{job.pk}-progress")

    @admin.display(description="Rows")
    def counts(self, job: Job) -> SafeString:
        notes = [
            f"{count} {what}"
            for count, what in (
                (job.shipped_count, "shipped"),
                (job.failed_count, "failed"),
                (job.invalid_count, "with errors"),
                (job.warning_count, "with warnings"),
            )
            if count
        ]
        return format_html(
            '<span class="job-counts">{}</span><span class="job-count-notes">{}</span>',
            counted(job.row_count, "row"),
            " · ".join(notes),
        )

    @admin.display(description="Est. cost", ordering="estimated_cost_cents")
    def estimated_cost(self, job: Job) -> str:
        return str(job_estimate(job))  # "not rated yet": $0.00 would read as free

    @admin.display(description="Actual cost", ordering="actual_cost_cents")
    def actual_cost(self, job: Job) -> str:
        if not job.shipped_count and not job.actual_cost_cents:
            return "—"
        return format_cents(job.actual_cost_cents, job.currency)

    @admin.display(description="Rows taken")
    def filter_text(self, job: Job) -> str:
        try:
            return describe_stored(job.filter)
        except DomainError:
            return str(job.filter)
