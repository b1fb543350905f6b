"""Cancel a job (shipped rows are kept) and void its shipments at UPS."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.services.transitions import job_transition, row_transition, rows_transition_bulk
from jobs.states import JOB_FINAL_STATUSES, JobStatus, RowStatus
from shipops.errors import DomainError
from ups.client import get_client
from ups.errors import UpsError


def job_cancel(*, job: Job, actor: Actor, reason: str = "") -> Job:
    """Cancel ``job``: pending rows are cancelled, shipped rows kept, in-flight rows unknown."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.status in JOB_FINAL_STATUSES:
            raise DomainError(
                "not_cancellable", f"{locked} is already {locked.get_status_display().lower()}."
            )
        cancelled = rows_transition_bulk(
            rows=JobRow.objects.filter(
                job=locked, status__in=[RowStatus.PENDING, RowStatus.FAILED, RowStatus.SKIPPED]
            ),
            to_status=RowStatus.CANCELLED,
            actor=actor,
            action="row_cancelled",
            message="Cancelled with its job.",
        )
        # A ship request may be on its way right now: its outcome is for reconciliation.
        unknown = rows_transition_bulk(
            rows=JobRow.objects.filter(job=locked, status=RowStatus.IN_FLIGHT),
            to_status=RowStatus.UNKNOWN,
            actor=actor,
            action="row_unknown",
            message="The job was cancelled while this row's ship request was on its way.",
        )
        message = (
            f"Cancelled: {cancelled} rows will not ship; "
            f"{locked.shipped_count} shipped rows are kept."
        )
        if unknown:
            message += f" {unknown} row(s) were being shipped: check them under “unknown”."
        job_transition(
            job=locked,
            to_status=JobStatus.CANCELLED,
            actor=actor,
            action="job_cancelled",
            message=f"{message} {reason}".strip(),
            changes={"lease_owner": "", "lease_expires_at": None},
        )
    job.refresh_from_db()
    return job


def job_void_shipped(*, job: Job, actor: Actor) -> int:
    """Void every shipped row of ``job`` at UPS; return how many were voided.

    Stops at the first shipment UPS will not void, keeping those already voided.
    """
    client = get_client()
    voided = 0
    for row in JobRow.objects.filter(job=job, status=RowStatus.SHIPPED).order_by("row_number"):
        try:
            result = client.void(
                row.shipment_id or row.tracking_number, tracking_numbers=(row.tracking_number,)
            )
        except UpsError as error:
            raise DomainError(
                "void_failed",
                f"UPS would not void row {row.row_number} (tracking {row.tracking_number}): "
                f"{error.message} {voided} shipment(s) were voided before it.",
            ) from error
        if not result.voided:
            raise DomainError(
                "void_failed",
                f"UPS did not void row {row.row_number} (tracking {row.tracking_number}): "
                f"{result.description}. {voided} shipment(s) were voided before it.",
            )
        with transaction.atomic():
            row_transition(
                row=row,
                to_status=RowStatus.VOIDED,
                actor=actor,
                action="row_voided",
                message=f"Voided at UPS (tracking {row.tracking_number} kept for the record).",
            )
            Job.objects.filter(pk=job.pk).update(shipped_count=F("shipped_count") - 1)
        voided += 1
    return voided
