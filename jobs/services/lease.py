"""The job lease: one worker at a time, and a fencing token that every executor write checks.

A worker claims a job by raising its fencing token; every later write of that
worker runs ``lease_renew`` first, an UPDATE that matches only while the
token is still the one it claimed. A worker that slept through its lease and
lost the job to another finds no row to update and stops without writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from jobs.actors import Actor, SystemActor, actor_label
from jobs.models import Job
from jobs.services.audit import audit_record
from jobs.states import JobStatus
from shipops.errors import DomainError


class LeaseLost(DomainError):
    """Another worker holds the job now; this one must stop without writing."""

    def __init__(self, job_id: int):
        super().__init__(
            "lease_lost",
            f"Job {job_id} is held by another worker now; this worker stopped without writing.",
        )


# The statuses in which a job is worked on under a lease.
LEASED_STATUSES = (JobStatus.RUNNING, JobStatus.PREVIEWING)


@dataclass(frozen=True)
class Lease:
    job_id: int
    token: int
    owner: str


def lease_expiry(seconds: int | None = None) -> datetime:
    if seconds is None:
        seconds = settings.SHIPOPS_LEASE_SECONDS
    return timezone.now() + timedelta(seconds=seconds)


def _lockable(queryset: QuerySet[Job]) -> QuerySet[Job]:
    # SKIP LOCKED: a second worker moves on instead of queueing behind the first.
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset.select_for_update()


def lease_hand_over(*, job: Job, actor: Actor) -> int:
    """Reserve the job for the next task to be queued and return the token it must present.

    Runs inside the caller's transaction (the job row is locked there). The
    reservation lasts SHIPOPS_HANDOVER_SECONDS: a queued task that never runs
    shows up as an interrupted job after that.
    """
    job.fencing_token += 1
    job.lease_owner = f"queued by {actor_label(actor)}"
    job.lease_expires_at = lease_expiry(settings.SHIPOPS_HANDOVER_SECONDS)
    job.save(update_fields=["fencing_token", "lease_owner", "lease_expires_at", "updated_at"])
    return job.fencing_token


def lease_claim(
    *, job_id: int, token: int, actor: SystemActor, statuses: frozenset[str]
) -> tuple[Job, Lease] | None:
    """Take the job for this worker if ``token`` is still the one handed over, else None.

    A redelivered or duplicate task, or one that lost a race to another
    worker, presents a stale token and gets None: it must exit at once.
    """
    with transaction.atomic():
        job = _lockable(Job.objects.filter(pk=job_id)).first()
        if job is None or job.status not in statuses or job.fencing_token != token:
            return None
        job.fencing_token += 1
        job.lease_owner = actor.label
        job.lease_expires_at = lease_expiry()
        job.save(update_fields=["fencing_token", "lease_owner", "lease_expires_at", "updated_at"])
        audit_record(
            actor=actor,
            action="lease_claimed",
            message=f"{actor.label} took job {job.pk}.",
            job=job,
            data={"token": job.fencing_token},
        )
    return job, Lease(job_id=job.pk, token=job.fencing_token, owner=actor.label)


def lease_renew(lease: Lease, **changes: Any) -> None:
    """Check the fence and extend the lease; raise LeaseLost if another worker took the job.

    Call it inside every executor transaction: the UPDATE also locks the job
    row until that transaction ends. ``changes`` are more job fields (counters)
    set by the same UPDATE, so only while the fence holds.
    """
    updated = Job.objects.filter(
        pk=lease.job_id,
        fencing_token=lease.token,
        status__in=LEASED_STATUSES,
    ).update(lease_expires_at=lease_expiry(), **changes)
    if updated != 1:
        raise LeaseLost(lease.job_id)


def lease_release(lease: Lease) -> None:
    """Give the lease up (the job's status already says what happened)."""
    with transaction.atomic():
        Job.objects.filter(pk=lease.job_id, fencing_token=lease.token).update(
            lease_owner="", lease_expires_at=None
        )
