"""Read jobs and their rows, create a job, and start or read its preview."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve, reverse

from datasources.models import DataSource
from jobs.api.http import ApiError, ApiView, acting_user, permission_denied
from jobs.api.inputs import (
    boolean,
    choice,
    invalid,
    json_body,
    json_object,
    query_choices,
    whole_number,
)
from jobs.api.lookups import api_jobs, get_job
from jobs.api.pagination import paginate
from jobs.api.serializers import (
    iso,
    job_dict,
    last_error,
    preview_dict,
    progress_dict,
    recovery_dict,
    row_dict,
)
from jobs.filters import RowFilter
from jobs.models import Job
from jobs.permissions import APPROVE_PERMISSION, CREATE_PERMISSION, OPERATE_PERMISSION
from jobs.selectors import job_rows
from jobs.services.approval import job_approve
from jobs.services.creation import job_create
from jobs.services.preview import job_preview_start
from jobs.services.recovery import job_recovery_summary
from jobs.services.restart import job_restart_refusal, job_restart_warning
from jobs.services.restart_changes import job_restart_source_changes
from jobs.session_mode import session_mode
from jobs.states import JobMode, JobStatus, RowStatus
from jobs.summaries import preview_summary

CREATE_FIELDS = {"source", "filter", "mode", "include_already_shipped"}
LIST_QUERY = frozenset({"status", "page", "page_size"})


def job_response(job_id: int, *, status: int = 200) -> JsonResponse:
    """Return the job as it now stands (201 answers also say where it lives)."""
    response = JsonResponse(job_dict(get_job(job_id)), status=status)
    if status == 201:
        response["Location"] = reverse("api:job-detail", args=[job_id])
    return response


class JobListView(ApiView):
    """GET: the jobs, newest first, paginated; POST: create a job from a data source."""

    query_fields = LIST_QUERY
    write_permission = CREATE_PERMISSION

    def get(self, request: HttpRequest) -> JsonResponse:
        jobs = api_jobs()
        if statuses := query_choices(request, "status", JobStatus.values):
            jobs = jobs.filter(status__in=statuses)
        return JsonResponse(paginate(request, jobs, job_dict))

    def post(self, request: HttpRequest) -> JsonResponse:
        user = acting_user(request)
        data = json_body(request, allowed=CREATE_FIELDS)
        source_id = whole_number(data, "source")
        # The session's mode (confirm unless switched) when the call does not say.
        mode = choice(data, "mode", JobMode.values, default=session_mode(request))
        if mode == JobMode.AUTO and not user.has_perm(APPROVE_PERMISSION):
            raise permission_denied()
        row_filter = RowFilter.from_json(json_object(data, "filter", absent="take every row"))
        include_shipped = boolean(data, "include_already_shipped")
        source = DataSource.objects.filter(pk=source_id).first()
        if source is None:
            raise invalid("source", f"there is no data source {source_id}.")
        # Auto mode: an approved, queued job or none at all; a job with invalid rows
        # stays a draft so that someone decides about them.
        with transaction.atomic():
            job = job_create(
                source=source,
                actor=user,
                mode=mode,
                row_filter=row_filter,
                include_already_shipped=include_shipped,
                session_key=request.session.session_key,
            )
            if mode == JobMode.AUTO and job.invalid_count == 0:
                job_approve(job=job, acting_user=user)
        return job_response(job.pk, status=201)


class JobDetailView(ApiView):
    """GET: one job with its counts, costs, progress and last error."""

    def get(self, request: HttpRequest, job_id: int) -> JsonResponse:
        return job_response(job_id)


class JobRowsView(ApiView):
    """GET: a job's rows in source order, paginated, optionally only some statuses."""

    query_fields = LIST_QUERY

    def get(self, request: HttpRequest, job_id: int) -> JsonResponse:
        get_job(job_id, Job.objects.only("pk"))
        rows = job_rows(job_id=job_id)
        if statuses := query_choices(request, "status", RowStatus.values):
            rows = rows.filter(status__in=statuses)
        return JsonResponse(paginate(request, rows, row_dict))


class JobPreviewView(ApiView):
    """GET: the preview's first lines and totals; POST: start (or redo) the preview."""

    write_permission = OPERATE_PERMISSION

    def get(self, request: HttpRequest, job_id: int) -> JsonResponse:
        job = get_job(job_id, Job.objects.only("pk", "currency", "status", "mode"))
        return JsonResponse(preview_dict(preview_summary(job)))

    def post(self, request: HttpRequest, job_id: int) -> JsonResponse:
        json_body(request, allowed=())
        job_preview_start(job=get_job(job_id), actor=acting_user(request))
        return job_response(job_id, status=202)


class JobProgressView(ApiView):
    """GET: how far a job has come, from its counters (one query, for polling)."""

    def get(self, request: HttpRequest, job_id: int) -> JsonResponse:
        job = get_job(job_id)
        return JsonResponse(
            {
                "job_id": job.pk,
                **progress_dict(job),
                "status_label": job.get_status_display(),
                "last_error": last_error(job),
                "updated_at": iso(job.updated_at),
            }
        )


class JobRecoveryView(ApiView):
    """GET: where a stopped job stopped, in words, and the duplicate warning of a restart."""

    def get(self, request: HttpRequest, job_id: int) -> JsonResponse:
        job = get_job(job_id, Job.objects.all())
        summary = job_recovery_summary(job)
        refusal = job_restart_refusal(job)
        # Read from the source only when a restart could happen.
        changes = [] if refusal else job_restart_source_changes(job)
        warning = job_restart_warning(job)
        return JsonResponse(
            recovery_dict(job, summary, warning, refusal.message if refusal else "", changes)
        )


class NotFoundView(ApiView):
    """Any other URL under /api/: a 404 in the API's error shape (after the staff check)."""

    query_fields = None
    needs_view_permission = False  # says only that there is nothing here

    def not_found(self, request: HttpRequest) -> JsonResponse:
        hint = f" Did you mean {request.path}/?" if _routed(request.path + "/") else ""
        raise ApiError(
            404,
            "not_found",
            f"There is no API endpoint at {request.path}.{hint} See /api/openapi.json.",
        )

    get = post = put = patch = delete = options = not_found


def _routed(path: str) -> bool:
    try:
        return resolve(path).url_name != "not-found"
    except Resolver404:
        return False
