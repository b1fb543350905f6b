"""Change a job's or a row's status: checked against jobs.states, locked, audited, atomic."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from jobs.actors import Actor, actor_label, actor_user
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.audit import audit_record
from jobs.states import check_job_transition, check_row_transition, check_writeback_transition
from shipops.errors import DomainError


def status_refusal(
    job: Job, allowed: Collection[str], *, code: str, only: str, to: str = ""
) -> DomainError | None:
    """None when ``job``'s status is one of ``allowed``; else "Job 7 is completed: ``only``".

    ``to``: the status the refused action would have moved it to, for the details.
    """
    if job.status in allowed:
        return None
    details = {"from": job.status, "to": to} if to else {}
    return DomainError(
        code, f"{job} is {job.get_status_display().lower()}: {only}", details=details
    )


def job_transition(
    *,
    job: Job,
    to_status: str,
    actor: Actor,
    action: str,
    message: str,
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Job:
    """Move ``job`` to ``to_status`` with any field ``changes``, audited, in one transaction."""
    changes = changes or {}
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        check_job_transition(job_label=str(locked), current=locked.status, target=to_status)
        from_status = locked.status
        locked.status = to_status
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.save(update_fields=["status", "updated_at", *changes])
        audit_record(
            actor=actor,
            action=action,
            message=message,
            job=locked,
            data={"from": from_status, "to": to_status, **(data or {})},
        )
    _refresh_from(job, locked, ["status", "updated_at", *changes])
    return job


def row_transition(
    *,
    row: JobRow,
    to_status: str,
    actor: Actor,
    action: str,
    message: str,
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> JobRow:
    """Move ``row`` to ``to_status`` with any field ``changes``, audited, in one transaction.

    The move is a compare-and-set: one UPDATE that matches only while the row
    still has the status it was checked against (the caller's copy, else the
    one read again), so nobody else's change in between is overwritten.
    """
    changes = {**(changes or {}), "updated_at": timezone.now()}
    from_status = row.status
    while True:
        # Refusals are raised outside the atomic block below, which has no savepoint
        # (two round trips fewer per executor phase): a caller that catches one can
        # go on using its own transaction.
        check_row_transition(row_label=str(row), current=from_status, target=to_status)
        with transaction.atomic(savepoint=False):
            moved = JobRow.objects.filter(pk=row.pk, status=from_status).update(
                status=to_status, **changes
            )
            if moved:
                audit_record(
                    actor=actor,
                    action=action,
                    message=message,
                    row=row,
                    data={"from": from_status, "to": to_status, **(data or {})},
                )
                break
        current = JobRow.objects.filter(pk=row.pk).values_list("status", flat=True).first()
        if current is None:
            raise JobRow.DoesNotExist(f"{row} no longer exists.")
        from_status = current
    row.status = to_status
    for field, value in changes.items():
        setattr(row, field, value)
    return row


def row_writeback_transition(
    *,
    row: JobRow,
    to_status: str,
    actor: Actor,
    message: str,
    error: str = "",
) -> JobRow:
    """Record the outcome of writing ``row``'s tracking number back to its source, audited."""
    with transaction.atomic():
        locked = JobRow.objects.select_for_update().get(pk=row.pk)
        check_writeback_transition(
            row_label=str(locked), current=locked.writeback_status, target=to_status
        )
        from_status = locked.writeback_status
        locked.writeback_status = to_status
        locked.writeback_error = error
        locked.save(update_fields=["writeback_status", "writeback_error", "updated_at"])
        audit_record(
            actor=actor,
            action=f"writeback_{to_status}",
            message=message,
            row=locked,
            data={"from": from_status, "to": to_status, "error": error},
        )
    _refresh_from(row, locked, ["writeback_status", "writeback_error", "updated_at"])
    return row


def _refresh_from(target: Job | JobRow, source: Job | JobRow, fields: list[str]) -> None:
    # The caller keeps its instance; copy the committed values onto it.
    for field in fields:
        setattr(target, field, getattr(source, field))


def rows_transition_bulk(
    *,
    rows: QuerySet[JobRow],
    to_status: str,
    actor: Actor,
    action: str,
    message: str,
    changes: dict[str, Any] | None = None,
) -> int:
    """Move every row of ``rows`` to ``to_status`` in one UPDATE, one audit entry per row."""
    return _bulk_move(
        rows, "status", check_row_transition, to_status, actor, action, message, changes
    )


def rows_writeback_bulk(
    *, rows: QuerySet[JobRow], to_status: str, actor: Actor, message: str, error: str = ""
) -> int:
    """Record one write-back outcome for many rows in one UPDATE, one audit entry per row."""
    return _bulk_move(
        rows,
        "writeback_status",
        check_writeback_transition,
        to_status,
        actor,
        f"writeback_{to_status}",
        message,
        {"writeback_error": error},
    )


def _bulk_move(
    rows: QuerySet[JobRow],
    field: str,
    check: Callable[..., None],
    to_status: str,
    actor: Actor,
    action: str,
    message: str,
    changes: dict[str, Any] | None,
) -> int:
    # Every row's current value must allow the move; otherwise nothing changes.
    with transaction.atomic():
        locked = list(rows.select_for_update().values_list("pk", "job_id", "row_number", field))
        for _pk, job_id, number, current in locked:
            check(row_label=f"Job {job_id} row {number}", current=current, target=to_status)
        JobRow.objects.filter(pk__in=[pk for pk, *_ in locked]).update(
            **{field: to_status, "updated_at": timezone.now(), **(changes or {})}
        )
        AuditEntry.objects.bulk_create(
            AuditEntry(
                job_id=job_id,
                row_id=pk,
                actor=actor_user(actor),
                actor_label=actor_label(actor),
                action=action,
                message=message,
                data={"from": current, "to": to_status, **(changes or {})},
            )
            for pk, job_id, _number, current in locked
        )
    return len(locked)
