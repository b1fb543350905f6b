"""The job admin's own views: create a job, progress, the session's mode, unknown rows, labels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from jobs.admin.common import ensure_session_key, job_url, rows, safe_next, staff_user
from jobs.admin.forms import JobCreateForm, UnknownRowForm
from jobs.admin.page import page_progress
from jobs.models import Job, JobRow
from jobs.selectors import creation_notices
from jobs.services.approval import job_approve
from jobs.services.creation import job_create
from jobs.services.label_recovery import job_fetch_labels
from jobs.services.reconcile import row_decide_unknown
from jobs.session_mode import session_mode, session_mode_lock, switch_session_mode
from jobs.states import JobMode
from shipops.errors import DomainError

if TYPE_CHECKING:
    from jobs.admin.job_admin import JobAdmin


def get_job(modeladmin: JobAdmin, request: HttpRequest, object_id: int) -> Job:
    """Return the job the URL names, or a 404 page; refuse people who may not view jobs."""
    if not modeladmin.has_view_permission(request):
        raise PermissionDenied
    try:
        return modeladmin.get_queryset(request).get(pk=object_id)
    except Job.DoesNotExist:
        raise Http404(f"There is no job {object_id}.") from None


def create_job_view(modeladmin: JobAdmin, request: HttpRequest) -> HttpResponse:
    """Read a data source into a new job, in this session's mode (auto approves at once)."""
    if not modeladmin.has_add_permission(request):
        raise PermissionDenied
    mode = session_mode(request)
    form = JobCreateForm(
        request.POST if request.method == "POST" else None,
        initial={"data_source": request.GET.get("data_source")},
    )
    if form.is_valid():
        user = staff_user(request)
        try:
            job = job_create(
                source=form.cleaned_data["data_source"],
                actor=user,
                mode=mode,
                row_filter=form.row_filter,
                include_already_shipped=form.cleaned_data["include_already_shipped"],
                session_key=ensure_session_key(request),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"{job} created: {rows(job.row_count)}, {job.invalid_count} with errors, "
                f"{job.already_shipped_count} already shipped and left out.",
            )
            for notice in creation_notices(job):
                messages.warning(request, notice)
            if mode == JobMode.AUTO:
                _approve_new_job(request, job)
            return HttpResponseRedirect(job_url(job))
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Create a job",
        "opts": modeladmin.model._meta,
        "form": form,
        "mode": mode,
        "has_view_permission": modeladmin.has_view_permission(request),
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/jobs/job/create.html", context)


def _approve_new_job(request: HttpRequest, job: Job) -> None:
    if job.invalid_count:
        messages.warning(
            request,
            f"{job} was not approved: {rows(job.invalid_count)} with errors. Exclude them (or fix "
            "the source and create a new job), then approve.",
        )
        return
    try:
        job_approve(job=job, acting_user=staff_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Auto mode: {job} approved, shipping starts now.")


def progress_view(modeladmin: JobAdmin, request: HttpRequest, object_id: int) -> JsonResponse:
    """Return the job's progress as JSON for the page's poller."""
    try:
        job = get_job(modeladmin, request, object_id)
    except Http404:
        message = f"There is no job {object_id}."
        return JsonResponse({"code": "not_found", "message": message}, status=404)
    return JsonResponse(page_progress(job))


def mode_switch_view(modeladmin: JobAdmin, request: HttpRequest) -> HttpResponse:
    """Switch this session between confirm and auto mode, unless a batch of it runs."""
    to_mode = request.POST.get("mode", "")
    try:
        switch_session_mode(request, user=staff_user(request), to_mode=to_mode)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if to_mode == JobMode.AUTO:
            text = "Auto mode: jobs you create now are approved right away, without a preview."
        else:
            text = "Confirm mode: jobs you create now wait for a preview and your approval."
        messages.success(request, text)
    return HttpResponseRedirect(safe_next(request))


def mode_state_view(modeladmin: JobAdmin, request: HttpRequest) -> JsonResponse:
    """Return this session's mode and whether a batch of it locks the mode, for the header."""
    reason = session_mode_lock(request)
    return JsonResponse({"mode": session_mode(request), "locked": bool(reason), "message": reason})


def unknown_row_view(
    modeladmin: JobAdmin, request: HttpRequest, object_id: int, row_id: int
) -> HttpResponse:
    """Record a person's decision on a row whose ship outcome is unknown."""
    # The service checks the approve permission: "not shipped" makes resume ship the row again.
    job = get_job(modeladmin, request, object_id)
    row = get_object_or_404(JobRow, pk=row_id, job=job)
    form = UnknownRowForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("__all__", []) or ["Choose shipped or not shipped."]:
            messages.error(request, f"Row {row.row_number}: {error}")
        return HttpResponseRedirect(job_url(job))
    tracking = form.cleaned_data["tracking_number"]
    try:
        decision = row_decide_unknown(row=row, actor=staff_user(request), tracking_number=tracking)
    except DomainError as error:
        messages.error(request, f"Row {row.row_number}: {error.message}")
    else:
        messages.success(request, decision.sentence)
    return HttpResponseRedirect(job_url(job) + "#unknown-rows")


def fetch_labels_view(modeladmin: JobAdmin, request: HttpRequest, object_id: int) -> HttpResponse:
    """Fetch from UPS the labels of the job's shipped rows that have none."""
    job = get_job(modeladmin, request, object_id)
    if not modeladmin.has_operate_permission(request):
        raise PermissionDenied
    try:
        outcome = job_fetch_labels(job=job, actor=staff_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        done, problems = outcome.sentences()
        if done:
            messages.success(request, done)
        for problem in problems:
            messages.warning(request, problem)
    return HttpResponseRedirect(job_url(job) + "#rows")
