"""Resume a stopped job where it stopped (restart.py starts it again as a new job)."""

from __future__ import annotations

from django.db import transaction

from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.queue import enqueue_execution
from jobs.services.lease import lease_hand_over
from jobs.services.reconcile import job_reconcile_unknown
from jobs.services.restart_holds import refuse_while_restarting
from jobs.services.transitions import job_transition, rows_transition_bulk
from jobs.states import JOB_RESUMABLE_STATUSES, JobStatus, RowStatus
from shipops.errors import DomainError
from shipops.words import counted
from ups.errors import UpsError

RESUMABLE = JOB_RESUMABLE_STATUSES


def job_resume(*, job: Job, actor: Actor, in_background: bool = True) -> int:
    """Reconcile unknown rows, then continue from the first pending row; return the token."""
    if job.status not in RESUMABLE:
        raise DomainError(
            "not_resumable",
            f"{job} is {job.get_status_display().lower()}; only interrupted "
            "or failed jobs can be resumed.",
        )
    try:
        undecided = job_reconcile_unknown(job=job, actor=actor)
    except UpsError as error:
        raise DomainError(
            "reconcile_failed",
            f"Could not look up unknown rows at UPS: {error.message} "
            "Nothing was shipped; try again later.",
        ) from error
    if undecided:
        numbers = ", ".join(str(row.row_number) for row in undecided[:10])
        raise DomainError(
            "needs_decision",
            f"UPS has no shipment for row(s) {numbers} under their references. Decide for each "
            f"whether it shipped (enter its tracking number) or not, then resume.",
            details={"rows": [row.pk for row in undecided]},
        )
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        refuse_while_restarting(locked)
        failed = JobRow.objects.filter(job=locked, status=RowStatus.FAILED)
        retried = rows_transition_bulk(
            rows=failed,
            to_status=RowStatus.PENDING,
            actor=actor,
            action="row_retry",
            message="Resume retries this row.",
        )
        job_transition(
            job=locked,
            to_status=JobStatus.RUNNING,
            actor=actor,
            action="job_resumed",
            message="Resumed"
            + (f"; {counted(retried, 'failed row')} will be retried." if retried else "."),
            changes={
                "resume_count": locked.resume_count + 1,
                "failed_count": max(0, locked.failed_count - retried),
                "last_error_code": "",
                "last_error_message": "",
                "last_error_advice": "",
                "last_error_row": None,
            },
        )
        token = lease_hand_over(job=locked, actor=actor)
        if in_background:
            enqueue_execution(locked.pk, token, actor=actor)
    job.refresh_from_db()
    return token
