"""The job actions: on the job list and, as Django 6.1 change-form actions, on each job's page.

Each action calls one service with the signed-in user (who the audit trail
records) and reports the service's sentence; a refusal is shown as a message.
Costly or irreversible ones answer first with a confirmation page
(``confirm.py``), which names the selected jobs the service would refuse and
why, and act when it is posted back with ``post=yes``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from jobs.admin import confirm
from jobs.admin.common import (
    BOTH_LOCATIONS,
    for_each_job,
    from_job_page,
    job_url,
    rows,
    shipped_rows_kept,
    staff_user,
)
from jobs.models import Job
from jobs.services.approval import job_approve, job_exclude_rows
from jobs.services.cancel import job_cancel
from jobs.services.preview import job_preview_start
from jobs.services.restart import job_restart, job_restart_check
from jobs.services.resume import job_resume
from jobs.services.writeback import job_retry_writeback
from jobs.session_mode import session_mode_lock, switch_session_mode
from jobs.states import JobMode
from jobs.summaries import job_estimate
from shipops.errors import DomainError
from shipops.words import counted

if TYPE_CHECKING:
    JobAdmin = admin.ModelAdmin[Job]
    Response = HttpResponse | None
    # One job's part of an action: call the service, return the sentence to show.
    Step = Callable[[Job, User], str]
    # Ask first; None (after saying why) when none of the jobs can take the action.
    ConfirmPage = Callable[[JobAdmin, HttpRequest, QuerySet[Job]], Response]
    ActionFunction = Callable[[JobAdmin, HttpRequest, QuerySet[Job]], Response]


def confirmed(request: HttpRequest) -> bool:
    """Return True when the request is the confirmation page posted back."""
    return request.POST.get("post") == "yes"


def make_action(
    name: str, *, label: str, plural: str, permission: str, body: ActionFunction
) -> ActionFunction:
    """Return ``body`` as the admin action ``name``, on the job list and on the job page."""

    def action(modeladmin: JobAdmin, request: HttpRequest, jobs: QuerySet[Job]) -> Response:
        return body(modeladmin, request, jobs)

    action.__name__ = action.__qualname__ = name
    decorate = admin.action(
        description=label,
        description_plural=plural,
        permissions=[permission],
        location=BOTH_LOCATIONS,
    )
    return decorate(action)


def job_action(
    name: str,
    *,
    label: str,
    plural: str,
    permission: str,
    step: Step,
    confirm_page: ConfirmPage | None = None,
) -> ActionFunction:
    """Return an action that runs ``step`` on each chosen job (after ``confirm_page``, if any)."""

    def body(modeladmin: JobAdmin, request: HttpRequest, jobs: QuerySet[Job]) -> Response:
        if confirm_page is not None and not confirmed(request):
            return confirm_page(modeladmin, request, jobs)
        user = staff_user(request)
        for_each_job(request, jobs, lambda job: step(job, user))
        return None

    return make_action(name, label=label, plural=plural, permission=permission, body=body)


def _preview(job: Job, user: User) -> str:
    job_preview_start(job=job, actor=user)
    return f"{job}: preview started. Costs and address checks appear as rows are rated."


def _exclude(job: Job, user: User) -> str:
    excluded = job_exclude_rows(job=job, actor=user)
    return f"{job}: {rows(excluded)} with errors excluded; they will not ship."


def _resume(job: Job, user: User) -> str:
    job_resume(job=job, actor=user)
    return f"{job} resumed: shipping continues from its first pending row."


def _cancel(job: Job, user: User) -> str:
    job_cancel(job=job, actor=user, reason="Cancelled in the admin.")
    if job.shipped_count:
        return f"{job} cancelled; the {shipped_rows_kept(job.shipped_count)}."
    return f"{job} cancelled; none of its rows had shipped."


def _retry_writeback(job: Job, user: User) -> str:
    job_retry_writeback(job=job, actor=user)
    if job.writeback_failed_count:
        raise DomainError(
            "writeback_still_failing",
            f"{job}: write-back retried, but "
            f"{counted(job.writeback_failed_count, 'tracking number')} "
            "still could not be written to the source. They are safe in ShipOps.",
        )
    return f"{job}: every tracking number is now in the source."


def _approve_step(job: Job, user: User, *, auto: bool) -> str:
    job_approve(job=job, acting_user=user, switch_to_auto=auto)
    estimate = job_estimate(job).as_estimated
    return f"{job} approved: shipping {rows(job.row_count - job.skipped_count)} ({estimate})."


def _approve(
    modeladmin: JobAdmin, request: HttpRequest, jobs: QuerySet[Job], *, auto: bool
) -> Response:
    # The job page shows the preview next to the button; the list does not, so it confirms.
    if not from_job_page(request) and not confirmed(request):
        if auto and (locked := session_mode_lock(request)):
            messages.error(request, locked)  # no job of the list could change that
            return None
        return confirm.approve_page(modeladmin, request, jobs, auto=auto)
    user = staff_user(request)
    if auto:
        # Switch first: a batch of this session running locks the mode, and then nothing ships.
        try:
            switch_session_mode(request, user=user, to_mode=JobMode.AUTO)
        except DomainError as error:
            messages.error(request, error.message)
            return None
        messages.info(
            request, "This session is now in auto mode: jobs you create are approved right away."
        )
    for_each_job(request, jobs, lambda job: _approve_step(job, user, auto=auto))
    return None


def _restart(modeladmin: JobAdmin, request: HttpRequest, jobs: QuerySet[Job]) -> Response:
    selected = list(jobs[:2])
    if len(selected) != 1:
        messages.error(request, "Restart one job at a time: select exactly one job.")
        return None
    job = selected[0]
    try:
        job_restart_check(job)  # before asking: no choice on the page could make it possible
    except DomainError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(job_url(job))
    form = confirm.RestartForm(job, request.POST if confirmed(request) else None)
    if not form.is_valid():
        return confirm.restart_page(modeladmin, request, job, form)
    try:
        new_job = job_restart(
            job=job,
            acting_user=staff_user(request),
            confirm_duplicates=form.cleaned_data["choice"] == confirm.DUPLICATE,
            void_first=form.cleaned_data["choice"] == confirm.VOID,
            seen_token=form.cleaned_data["token"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(job_url(job))
    messages.success(
        request, f"{job} was cancelled and restarted as {new_job} ({rows(new_job.row_count)})."
    )
    return HttpResponseRedirect(job_url(new_job))


approve_jobs = make_action(
    "approve_jobs",
    label="Approve",
    plural="Approve the selected jobs",
    permission="approve",
    body=partial(_approve, auto=False),
)
approve_jobs_switch_to_auto = make_action(
    "approve_jobs_switch_to_auto",
    label="Approve and switch to auto",
    plural="Approve the selected jobs and switch this session to auto mode",
    permission="approve",
    body=partial(_approve, auto=True),
)
restart_job = make_action(
    "restart_job",
    label="Restart",
    plural="Restart the selected job as a new job",
    permission="approve",
    body=_restart,
)
preview_jobs = job_action(
    "preview_jobs",
    label="Preview",
    plural="Preview the selected jobs",
    permission="operate",
    step=_preview,
)
exclude_invalid_rows = job_action(
    "exclude_invalid_rows",
    label="Exclude rows with errors",
    plural="Exclude the rows with errors from the selected jobs",
    permission="operate",
    step=_exclude,
)
resume_jobs = job_action(
    "resume_jobs",
    label="Resume",
    plural="Resume the selected jobs",
    permission="operate",
    step=_resume,
)
cancel_jobs = job_action(
    "cancel_jobs",
    label="Cancel",
    plural="Cancel the selected jobs",
    permission="operate",
    step=_cancel,
    confirm_page=confirm.cancel_page,
)
retry_writeback = job_action(
    "retry_writeback",
    label="Retry write-back",
    plural="Retry the write-back of the selected jobs",
    permission="operate",
    step=_retry_writeback,
)

JOB_ACTIONS = [
    preview_jobs,
    approve_jobs,
    approve_jobs_switch_to_auto,
    exclude_invalid_rows,
    resume_jobs,
    restart_job,
    cancel_jobs,
    retry_writeback,
]
