"""Confirmation pages for costly actions, in the pattern of Django's delete confirmation.

The action answers the first POST with one of these pages; the page posts the
same action back with ``post=yes`` and the operator's choices. A page for
several jobs says up front which of them the action will not take, and why
(the service's own refusal), and posts back only the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from jobs.admin.common import FORM_ACTION_FIELD, from_job_page, job_url, rows, shipped_rows_kept
from jobs.models import Job, JobRow
from jobs.services.approval import PendingRows, job_approve_refusal, pending_rows_by_job
from jobs.services.cancel import job_cancel_refusal
from jobs.services.restart import job_restart_warning
from jobs.services.restart_changes import job_restart_source_changes
from jobs.states import RowStatus
from jobs.summaries import job_estimate
from shipops.errors import DomainError
from shipops.words import counted

VOID, DUPLICATE = "void", "duplicate"
TEMPLATE = "admin/jobs/job/action_confirmation.html"


@dataclass(frozen=True)
class Line:
    """One selected job and what the action will do to it."""

    job: Job
    text: str


# Why a service would refuse a job now (None: it would not), e.g. job_cancel_refusal.
Refusal = Callable[[Job], DomainError | None]


@dataclass(frozen=True)
class Selection:
    """The selected jobs an action can take, and a line for each it cannot, saying why."""

    jobs: list[Job]
    refused: list[Line]

    @classmethod
    def of(cls, jobs: Iterable[Job], refusal: Refusal) -> Selection:
        """Sort ``jobs`` by the service's ``refusal``, keeping their order."""
        taken: list[Job] = []
        refused: list[Line] = []
        for job in jobs:
            if (error := refusal(job)) is None:
                taken.append(job)
            else:
                refused.append(Line(job, error.message))
        return cls(taken, refused)

    def report_refused(self, request: HttpRequest, *, done: str) -> None:
        """Say that no selected job can be ``done`` ("cancelled"), and why for each."""
        if len(self.refused) > 1:
            messages.error(
                request,
                f"None of the {len(self.refused)} selected jobs can be {done}; nothing changed.",
            )
        for line in self.refused:
            messages.error(request, line.text)


def jobs_count(count: int) -> str:
    """Return "1 job" or "3 jobs"."""
    return counted(count, "job")


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
                f"Void the {counted(shipped, 'existing shipment')} at UPS first, "
                "then ship every row again",
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
    # ``jobs`` are the ones the page posts back: those the action will take.
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


def _selection_page(
    modeladmin: admin.ModelAdmin[Job],
    request: HttpRequest,
    selection: Selection,
    *,
    question: str,
    done: str,
    lines: list[Line],
    **page: Any,
) -> TemplateResponse | None:
    """Ask ``question`` about the jobs of ``selection`` the action can take; None if none.

    ``question`` names them as "{jobs}". The page also names the selected jobs
    that will not be ``done`` ("cancelled"), each with the reason; when none
    can be, the reasons are messages and the action sends the person back.
    """
    if not selection.jobs:
        selection.report_refused(request, done=done)
        return None
    taken, selected = len(selection.jobs), len(selection.jobs) + len(selection.refused)
    counted = f"{taken} of the {selected} selected jobs" if selection.refused else jobs_count(taken)
    return _page(
        modeladmin,
        request,
        selection.jobs,
        title=question.format(jobs=counted),
        lines=lines,
        taken_heading=f"Will be {done}:",
        refused=selection.refused,
        refused_heading=f"Will not be {done} (they stay as they are):",
        **page,
    )


def approve_page(
    modeladmin: admin.ModelAdmin[Job], request: HttpRequest, queryset: QuerySet[Job], *, auto: bool
) -> TemplateResponse | None:
    """Ask before buying the labels of jobs approved from the list, where no preview shows."""
    selected = list(queryset)
    pending = pending_rows_by_job(selected)  # one query, not two per job
    selection = Selection.of(
        selected,
        lambda job: job_approve_refusal(job, pending=pending.get(job.pk, PendingRows(0, 0))),
    )
    jobs = selection.jobs
    lines = [
        Line(
            job,
            f"{job.get_status_display()}: {rows(job.row_count - job.skipped_count)}, "
            f"{job_estimate(job).as_estimated}, {job.warning_count} with warnings.",
        )
        for job in jobs
    ]
    switch = " and switch this session to auto mode" if auto else ""
    return _selection_page(
        modeladmin,
        request,
        selection,
        question=f"Approve {{jobs}}{switch}?",
        done="approved",
        action="approve_jobs_switch_to_auto" if auto else "approve_jobs",
        lines=lines,
        button="Yes, approve and ship",
        intro="Approving buys a UPS label for every row it ships.",
    )


def cancel_page(
    modeladmin: admin.ModelAdmin[Job], request: HttpRequest, queryset: QuerySet[Job]
) -> TemplateResponse | None:
    """Ask before cancelling: say how many rows will not ship and how many shipped are kept."""
    selection = Selection.of(queryset, job_cancel_refusal)
    jobs = selection.jobs
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
            f"{rows(stopping)} that {'has' if stopping == 1 else 'have'} not shipped will be "
            "cancelled; "
            f"{shipped_rows_kept(by_status.get(RowStatus.SHIPPED, 0))}."
        )
        if by_status.get(RowStatus.IN_FLIGHT):
            text += " A row being shipped right now will need checking (outcome unknown)."
        lines.append(Line(job, text))
    return _selection_page(
        modeladmin,
        request,
        selection,
        question="Cancel {jobs}?",
        done="cancelled",
        action="cancel_jobs",
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
        notices=job_restart_source_changes(job),
        form=form,
        danger=True,
    )
