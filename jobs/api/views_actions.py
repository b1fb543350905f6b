"""Act on a job: approve, resume, restart, cancel, exclude rows, retry the write-back, labels."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, JsonResponse

from jobs.api.http import ApiView, acting_user
from jobs.api.inputs import boolean, invalid, json_body, text, whole_number
from jobs.api.lookups import get_job, get_row
from jobs.api.serializers import job_dict, row_dict
from jobs.api.views_jobs import job_response
from jobs.models import Job
from jobs.permissions import APPROVE_PERMISSION, OPERATE_PERMISSION
from jobs.services.approval import job_approve, job_exclude_rows
from jobs.services.cancel import job_cancel
from jobs.services.label_recovery import job_fetch_labels
from jobs.services.reconcile import row_decide_unknown
from jobs.services.restart import job_restart
from jobs.services.resume import job_resume
from jobs.services.writeback import job_retry_writeback
from jobs.session_mode import SESSION_KEY, session_mode, switch_session_mode
from jobs.states import JobMode
from shipops.errors import DomainError


class JobActionView(ApiView, ABC):
    """POST: parse the body, load the job, call one service, answer with the job.

    The answer is 202 where the service queued background work, 200 where it is done.
    """

    # Preview, resume, cancel...: what the admin's job actions need; approvals ask for more.
    write_permission = OPERATE_PERMISSION
    # The fields the body may carry; any other is refused with a 400.
    body_fields: frozenset[str] = frozenset()

    def post(self, request: HttpRequest, job_id: int) -> JsonResponse:
        user = acting_user(request)
        data = json_body(request, allowed=self.body_fields)
        job = get_job(job_id, Job.objects.select_related("data_source"))
        return self.act(request, job=job, user=user, data=data)

    @abstractmethod
    def act(
        self, request: HttpRequest, *, job: Job, user: User, data: dict[str, Any]
    ) -> JsonResponse:
        """Call the service for ``job`` and return the response."""


class ApproveView(JobActionView):
    """Approve the job and queue its execution; ``switch_to_auto`` also flips the session."""

    write_permission = APPROVE_PERMISSION
    body_fields = frozenset({"switch_to_auto"})

    def act(
        self, request: HttpRequest, *, job: Job, user: User, data: dict[str, Any]
    ) -> JsonResponse:
        switch = boolean(data, "switch_to_auto")
        before = session_mode(request)
        try:
            with transaction.atomic():
                # Switch first: once a job of this session is approved, its mode is locked.
                if switch:
                    switch_session_mode(request, user=user, to_mode=JobMode.AUTO)
                job_approve(job=job, acting_user=user, switch_to_auto=switch)
        except DomainError:
            if switch:  # the approval was refused: the session keeps its mode too
                request.session[SESSION_KEY] = before
            raise
        return job_response(job.pk, status=202)


class ResumeView(JobActionView):
    """Reconcile unknown rows at UPS, then queue the job from its first pending row."""

    def act(
        self, request: HttpRequest, *, job: Job, user: User, data: dict[str, Any]
    ) -> JsonResponse:
        job_resume(job=job, actor=user)
        return job_response(job.pk, status=202)


class RestartView(JobActionView):
    """Cancel the job and ship its rows again as a new approved job (201 with the new job)."""

    write_permission = APPROVE_PERMISSION
    body_fields = frozenset({"confirm_duplicates", "void_first", "token"})

    def act(
        self, request: HttpRequest, *, job: Job, user: User, data: dict[str, Any]
    ) -> JsonResponse:
        new_job = job_restart(
            job=job,
            acting_user=user,
            confirm_duplicates=boolean(data, "confirm_duplicates"),
            void_first=boolean(data, "void_first"),
            seen_token=whole_number(data, "token") if "token" in data else None,
        )
        return job_response(new_job.pk, status=201)


class CancelView(JobActionView):
    """Cancel the job: pending rows will not ship, shipped rows are kept."""

    body_fields = frozenset({"reason"})

    def act(
        self, request: HttpRequest, *, job: Job, user: User, data: dict[str, Any]
    ) -> JsonResponse:
        job_cancel(job=job, actor=user, reason=text(data, "reason").strip())
        return job_response(job.pk)


class ExcludeInvalidView(JobActionView):
    """Leave every pending row with errors out of the batch."""

    def act(
        self, request: HttpRequest, *, job: Job, user: User, data: dict[str, Any]
    ) -> JsonResponse:
        excluded = job_exclude_rows(job=job, actor=user)
        return JsonResponse({"excluded": excluded, "job": job_dict(get_job(job.pk))})


class RetryWritebackView(JobActionView):
    """Write the job's unwritten tracking numbers back to its source again."""

    def act(
        self, request: HttpRequest, *, job: Job, user: User, data: dict[str, Any]
    ) -> JsonResponse:
        job_retry_writeback(job=job, actor=user)
        return job_response(job.pk)


class FetchLabelsView(JobActionView):
    """Fetch from UPS the labels of the job's shipped rows that have none."""

    def act(
        self, request: HttpRequest, *, job: Job, user: User, data: dict[str, Any]
    ) -> JsonResponse:
        outcome = job_fetch_labels(job=job, actor=user)
        not_found = [
            {"row_number": number, "tracking_number": tracking, "reason": reason}
            for number, tracking, reason in outcome.not_found
        ]
        answer = {
            "fetched": outcome.fetched,
            "not_found": not_found,
            "not_fetched": outcome.unasked,
            "not_fetched_reason": outcome.why_unasked or None,
        }
        return JsonResponse({**answer, "job": job_dict(get_job(job.pk))})


class RowDecideView(ApiView):
    """POST: a person settles a row whose ship outcome is unknown."""

    write_permission = APPROVE_PERMISSION

    def post(self, request: HttpRequest, job_id: int, row_id: int) -> JsonResponse:
        user = acting_user(request)
        data = json_body(request, allowed={"shipped", "tracking_number"})
        if "shipped" not in data:
            raise invalid("shipped", "is required: true (with tracking_number) or false.")
        shipped = boolean(data, "shipped")
        tracking_number = text(data, "tracking_number").strip()
        if shipped != bool(tracking_number):
            raise invalid(
                "tracking_number",
                "is required when shipped is true, and must be absent when it is false.",
            )
        row = get_row(job_id, row_id)
        row_decide_unknown(row=row, actor=user, tracking_number=tracking_number)
        return JsonResponse(row_dict(get_row(job_id, row_id)))
