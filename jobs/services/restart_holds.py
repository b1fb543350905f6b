"""A restart's hold on the jobs it works on: nobody else acts on them meanwhile.

A restart reads the source, voids shipments at UPS and cancels the old job
outside any one transaction. While it holds the old job, resume, cancel and
another restart of it are refused; while it holds the new job it created,
preview, approval, exclusion and cancel of that one are. A hold is the job's
lease with the owner "restart by <user>": it lasts SHIPOPS_LEASE_SECONDS from
its last renewal, so a restart whose process died frees the jobs by then.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from jobs.actors import Actor, actor_label
from jobs.models import Job
from jobs.services.audit import audit_record
from jobs.services.lease import Lease, lease_expiry
from jobs.states import JobStatus
from shipops.errors import DomainError
from shipops.words import counted

RESTART_OWNER = "restart by "  # the lease owner of a job a restart holds
# The statuses a restart's new job keeps until the restart approves or cancels it.
NEW_JOB_STATUSES = (JobStatus.DRAFT,)


def restart_hold(
    *, job: Job, actor: Actor, statuses: Collection[str], expected_token: int | None = None
) -> Lease | None:
    """Hold the stopped ``job`` for a restart; None if it is no longer in ``statuses``.

    None too if its fencing token is no longer ``expected_token`` (given): a
    worker took it since, and may have shipped rows the person did not see.

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
        if expected_token is not None and locked.fencing_token != expected_token:
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


def restart_hold_renew(hold: Lease, statuses: Collection[str], **unchanged: Any) -> bool:
    """Extend a restart's hold; False if the job left ``statuses`` or someone else took it.

    ``unchanged``: more of the job's fields that must still hold these values.
    """
    held = Job.objects.filter(
        pk=hold.job_id, fencing_token=hold.token, status__in=statuses, **unchanged
    )
    return held.update(lease_expires_at=lease_expiry()) == 1


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


@dataclass(frozen=True)
class HeldJobs:
    """The stopped job a restart holds (in one of ``stopped``) and the new job it made."""

    job: Job
    hold: Lease
    stopped: Collection[str]
    new_job: Job
    new_hold: Lease

    def lost(self) -> str:
        """Renew both holds; say which job was taken meanwhile, or "" if neither was.

        A job is taken when its hold lapsed (a restart slower than
        SHIPOPS_LEASE_SECONDS between two steps) and someone acted on it.
        """
        # The new job must still hold every row it was made with (none excluded).
        same_rows = {"skipped_count": self.new_job.skipped_count}
        for job, hold, statuses, unchanged, named in (
            (self.job, self.hold, self.stopped, {}, f"{self.job}"),
            (
                self.new_job,
                self.new_hold,
                NEW_JOB_STATUSES,
                same_rows,
                f"the new job, {self.new_job},",
            ),
        ):
            if not restart_hold_renew(hold, statuses, **unchanged):
                now = Job.objects.get(pk=job.pk)
                said = f"{named} was taken over (it is {JobStatus(now.status).label.lower()} now"
                if excluded := now.skipped_count - job.skipped_count:
                    said += f", {counted(excluded, 'row')} excluded"
                return f"{said})"
        return ""
