"""The job lease: one worker at a time, and a fencing token that every executor write checks.

A worker claims a job by raising its fencing token; every later write of that
worker runs ``lease_renew`` first, an UPDATE that matches only while the
token is still the one it claimed. A worker that slept through its lease and
lost the job to another finds no row to update and stops without writing.
"""

from __future__ import annotations

from collections.abc import Collection
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
# The lease owner of a stopped job that a restart holds.
RESTART_OWNER = "restart by "


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


def restart_hold(*, job: Job, actor: Actor, statuses: Collection[str]) -> Lease | None:
    """Hold the stopped ``job`` for a restart; None if it is no longer in ``statuses``.

    A restart reads the source and voids shipments outside any transaction.
    While it holds the job, resume and cancel are refused
    (``refuse_while_restarting``), so no worker ships a row the restart voids or
    ships again. Raising the fencing token also fences out a worker that lost
    the job. The hold lasts SHIPOPS_LEASE_SECONDS from its last renewal: a
    restart whose process died frees the job by then.
    """
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        refuse_while_restarting(locked)
        if locked.status not in statuses:
            return None
        locked.fencing_token += 1
        for name, value in restart_hold_fields(actor).items():
            setattr(locked, name, value)
        locked.save(
            update_fields=["fencing_token", "lease_owner", "lease_expires_at", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="restart_began",
            message=(
                f"{actor_label(actor)} began restarting {locked}; it cannot be resumed or "
                "cancelled until the restart is done."
            ),
            job=locked,
            data={"token": locked.fencing_token},
        )
    return Lease(job_id=locked.pk, token=locked.fencing_token, owner=locked.lease_owner)


def restart_hold_fields(actor: Actor) -> dict[str, Any]:
    """The lease fields of a job that ``actor``'s restart holds."""
    return {
        "lease_owner": f"{RESTART_OWNER}{actor_label(actor)}",
        "lease_expires_at": lease_expiry(),
    }


def restart_hold_renew(hold: Lease, statuses: Collection[str]) -> bool:
    """Extend a restart's hold; False if the job left ``statuses`` or someone else took it."""
    return (
        Job.objects.filter(pk=hold.job_id, fencing_token=hold.token, status__in=statuses).update(
            lease_expires_at=lease_expiry()
        )
        == 1
    )


def restart_release(hold: Lease, actor: Actor) -> None:
    """End a restart's hold on a job it did not cancel, audited; nothing if the hold is gone."""
    with transaction.atomic():
        released = Job.objects.filter(
            pk=hold.job_id, fencing_token=hold.token, lease_owner=hold.owner
        ).update(lease_owner="", lease_expires_at=None)
        if released:
            job = Job.objects.get(pk=hold.job_id)
            audit_record(
                actor=actor,
                action="restart_ended",
                message=(
                    f"The restart of {job} stopped without cancelling it; it can be resumed, "
                    "restarted or cancelled again."
                ),
                job=job,
            )


def refuse_while_restarting(job: Job, *, hold: Lease | None = None) -> None:
    """Raise DomainError ``restart_in_progress`` while a restart not ``hold``'s holds ``job``.

    ``job`` is read under the caller's row lock.
    """
    expires = job.lease_expires_at
    if (
        not job.lease_owner.startswith(RESTART_OWNER)
        or expires is None
        or expires <= timezone.now()
    ):
        return
    if hold is not None and hold.token == job.fencing_token:
        return
    raise DomainError(
        "restart_in_progress",
        f"{job} is held by a restart ({job.lease_owner}): wait until the restart is done "
        "(a few seconds per shipment it voids), then look at the job again.",
        details={"owner": job.lease_owner},
    )
