"""Confirmation pages for costly actions, in the pattern of Django's delete confirmation.

The action answers the first POST with one of these pages; the page posts the
same action back with ``post=yes`` and the operator's choices.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from jobs.admin.common import FORM_ACTION_FIELD, from_job_page, job_url, rows, shipped_rows_kept
from jobs.models import Job, JobRow
from jobs.services.restart import job_restart_warning
from jobs.states import RowStatus
from shipops.money import format_cents

VOID, DUPLICATE = "void", "duplicate"
TEMPLATE = "admin/jobs/job/action_confirmation.html"


@dataclass(frozen=True)
class Line:
    """One selected job and what the action will do to it."""

    job: Job
    text: str


class RestartForm(forms.Form):
    """How to restart a job whose rows already shipped: void them first, or accept duplicates."""

    choice = forms.ChoiceField(widget=forms.RadioSelect, required=False, label="Existing shipments")
    # The job's fencing token as shown: a job that ran since is refused as stale.
    token = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, job: Job, data: Any = None) -> None:
        super().__init__(data, initial={"token": job.fencing_token})
        self.warning = job_restart_warning(job)
        shipped = job.shipped_count
        choice = self.fields["choice"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [
            (
                VOID,
                f"Void the {shipped} existing shipments at UPS first, then ship every row again",
            ),
            (DUPLICATE, "Keep the existing shipments and ship every row again (duplicates)"),
        ]
        choice.required = bool(self.warning)
        choice.error_messages["required"] = "Choose what happens to the rows that already shipped."


def _page(
    modeladmin: admin.ModelAdmin[Job],
    request: HttpRequest,
    jobs: list[Job],
    *,
    action: str,
    title: str,
    lines: list[Line],
    button: str,
    **extra: Any,
) -> TemplateResponse:
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "lines": lines,
        "jobs": jobs,
        "action_name": action,
        "action_field": FORM_ACTION_FIELD if from_job_page(request) else "action",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "back_url": job_url(jobs[0]) if from_job_page(request) else request.get_full_path(),
        "button": button,
        **extra,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, TEMPLATE, context)


def approve_page(
    modeladmin: admin.ModelAdmin[Job], request: HttpRequest, queryset: QuerySet[Job], *, auto: bool
) -> TemplateResponse:
    """Ask before buying the labels of jobs approved from the list, where no preview shows."""
    jobs = list(queryset)
    lines = [
        Line(
            job,
            f"{job.get_status_display()}: {rows(job.row_count - job.skipped_count)}, estimated "
            f"{format_cents(job.estimated_cost_cents, job.currency)}, "
            f"{job.warning_count} with warnings.",
        )
        for job in jobs
    ]
    switch = " and switch this session to auto mode" if auto else ""
    return _page(
        modeladmin,
        request,
        jobs,
        action="approve_jobs_switch_to_auto" if auto else "approve_jobs",
        title=f"Approve {len(jobs)} job(s){switch}?",
        lines=lines,
        button="Yes, approve and ship",
        intro="Approving buys a UPS label for every row listed below.",
    )


def cancel_page(
    modeladmin: admin.ModelAdmin[Job], request: HttpRequest, queryset: QuerySet[Job]
) -> TemplateResponse:
    """Ask before cancelling: say how many rows will not ship and how many shipped are kept."""
    jobs = list(queryset)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    per_status = (
        JobRow.objects.filter(job__in=jobs).values("job_id", "status").annotate(n=Count("pk"))
    )
    for entry in per_status:
        counts[entry["job_id"]][entry["status"]] = entry["n"]
    lines = []
    for job in jobs:
        by_status = counts[job.pk]
        stopping = sum(by_status.get(s, 0) for s in (RowStatus.PENDING, RowStatus.FAILED))
        text = (
            f"{rows(stopping)} that have not shipped will be cancelled; "
            f"{shipped_rows_kept(by_status.get(RowStatus.SHIPPED, 0))}."
        )
        if by_status.get(RowStatus.IN_FLIGHT):
            text += " A row being shipped right now will need checking (outcome unknown)."
        lines.append(Line(job, text))
    return _page(
        modeladmin,
        request,
        jobs,
        action="cancel_jobs",
        title=f"Cancel {len(jobs)} job(s)?",
        lines=lines,
        button="Yes, cancel",
        intro="A cancelled job cannot be resumed.",
        danger=True,
    )


def restart_page(
    modeladmin: admin.ModelAdmin[Job], request: HttpRequest, job: Job, form: RestartForm
) -> TemplateResponse:
    """Ask before restarting: warn about duplicates and offer to void the shipped rows first."""
    intro = (
        f"{job} will be cancelled and its rows shipped again as a new, approved job "
        "(read again from the source)."
    )
    return _page(
        modeladmin,
        request,
        [job],
        action="restart_job",
        title=f"Restart {job}?",
        lines=[],
        button="Yes, restart",
        intro=intro,
        warning=form.warning,
        form=form,
        danger=True,
    )
