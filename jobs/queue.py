"""Queue django-q2 tasks after the transaction that asked for them commits.

The task is queued once the job's new status is committed, so a broker that
is down (Redis stopped, the ORM broker's database refusing writes) fails
*after* the approval, resume or preview it follows. The job is then
interrupted at once (a preview goes back to draft) with the reason, and the
caller gets a ``queue_unavailable`` error saying so, instead of a job left
"approved" until its hand-over lapses (SHIPOPS_HANDOVER_SECONDS) and an
error page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, transaction
from django_q.tasks import async_task

from jobs.actors import Actor
from jobs.models import Job
from jobs.services.lease import LEASED_STATUSES, Lease
from jobs.services.recovery import job_interrupt_on_error
from shipops.errors import DomainError

logger = logging.getLogger(__name__)


def enqueue_preview(job_id: int, token: int, *, actor: Actor) -> None:
    """Queue the preview of ``job_id`` once the current transaction commits."""
    _queue_on_commit("jobs.tasks.preview_job", job_id, token, actor, what="preview")


def enqueue_execution(job_id: int, token: int, *, actor: Actor) -> None:
    """Queue (the next slice of) the execution of ``job_id`` once the transaction commits."""
    _queue_on_commit("jobs.tasks.execute_job", job_id, token, actor, what="ship")


def _queue_on_commit(task: str, job_id: int, token: int, actor: Actor, *, what: str) -> None:
    def send() -> None:
        try:
            async_task(task, job_id, token, task_name=f"{what} job {job_id}", group=f"job-{job_id}")
        except Exception as error:
            logger.exception("Job %s: the task queue refused the %s task.", job_id, what)
            refused = queue_unavailable(job_id, token, actor, error, preview=what == "preview")
            if refused is not None:
                raise refused from error

    transaction.on_commit(send)


def queue_unavailable(
    job_id: int, token: int, actor: Actor, error: Exception, *, preview: bool
) -> DomainError | None:
    """Stop the job the broker would not take, and return the error that tells the operator.

    The task was handed the job's current fencing token: if a task did get
    through (a broker that failed after storing it), it claims the job first
    and the interruption below changes nothing; then None: the action worked.
    """
    reason = (
        f"The task queue could not take the job's {'preview' if preview else 'shipping'} task "
        f"({type(error).__name__}; the log has the details), so it did not start."
    )
    stopped = job_interrupt_on_error(
        lease=Lease(job_id=job_id, token=token, owner=""),
        actor=actor,
        error=DomainError("queue_unavailable", reason),
    )
    if not stopped and _taken_by_a_task(job_id, token):
        logger.warning("Job %s: its task got through the failing queue all the same.", job_id)
        return None
    if not stopped:
        next_step = (
            "It shows as interrupted when its hand-over lapses "
            "(SHIPOPS_HANDOVER_SECONDS); act on it then."
        )
    elif preview:
        next_step = "It is back to draft: preview it again once the queue works."
    else:
        next_step = "It is interrupted: resume it once the queue works."
    details: dict[str, Any] = {"job": job_id, "error": type(error).__name__, "stopped": stopped}
    return DomainError("queue_unavailable", f"Job {job_id}: {reason} {next_step}", details=details)


def _taken_by_a_task(job_id: int, token: int) -> bool:
    """Return whether a task claimed the job after ``token`` was handed over (False if unknown)."""
    try:
        job = Job.objects.filter(pk=job_id).values("fencing_token", "status").first()
    except DatabaseError:
        return False
    return job is not None and job["fencing_token"] > token and job["status"] in LEASED_STATUSES
