"""Queue django-q2 tasks after the transaction that asked for them commits."""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task


def enqueue_preview(job_id: int, token: int) -> None:
    """Queue the preview of ``job_id`` once the current transaction commits."""
    transaction.on_commit(
        lambda: async_task(
            "jobs.tasks.preview_job",
            job_id,
            token,
            task_name=f"preview job {job_id}",
            group=f"job-{job_id}",
        )
    )


def enqueue_execution(job_id: int, token: int) -> None:
    """Queue (the next slice of) the execution of ``job_id`` once the transaction commits."""
    transaction.on_commit(
        lambda: async_task(
            "jobs.tasks.execute_job",
            job_id,
            token,
            task_name=f"ship job {job_id}",
            group=f"job-{job_id}",
        )
    )
