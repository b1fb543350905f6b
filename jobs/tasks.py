"""django-q2 tasks: thin, they take ids and call one service (STYLE.md item 3)."""

from __future__ import annotations

from jobs.actors import system_actor
from jobs.services.execution import job_execute
from jobs.services.preview import job_preview_run
from jobs.services.recovery import jobs_mark_lapsed


def preview_job(job_id: int, token: int) -> None:
    """Rate every row of a job and validate its addresses."""
    job_preview_run(job_id=job_id, token=token)


def execute_job(job_id: int, token: int) -> None:
    """Ship a job's rows in order, for one slice of time."""
    job_execute(job_id=job_id, token=token)


def recover_lapsed_leases() -> int:
    """Mark jobs whose worker stopped answering as interrupted (the periodic schedule)."""
    return len(jobs_mark_lapsed(actor=system_actor("recovery schedule")))
