from __future__ import annotations

from typing import Any

from django.db import transaction

from jobs.actors import Actor, actor_label, actor_user
from jobs.models import AuditEntry, Job, JobRow
from shipops.errors import DomainError


def audit_record(
    *,
    actor: Actor,
    action: str,
    message: str,
    job: Job | None = None,
    row: JobRow | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an audit entry; it must be written inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise DomainError(
            "audit_outside_transaction",
            "An audit entry must be written in the same transaction as its change.",
        )
    job_id = job.pk if job is not None else (row.job_id if row is not None else None)
    return AuditEntry.objects.create(
        job_id=job_id,
        row=row,
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        action=action,
        message=message,
        data=data or {},
    )
