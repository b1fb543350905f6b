"""The append-only audit trail: record a change with it, and replay a job's trail."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from jobs.actors import Actor, actor_label, actor_user
from jobs.models import AuditEntry, Job, JobRow
from jobs.states import (
    JOB_TRANSITIONS,
    ROW_TRANSITIONS,
    WRITEBACK_TRANSITIONS,
    JobStatus,
    RowStatus,
    WritebackStatus,
)
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


def audit_trail_problems(job: Job) -> list[str]:
    """Replay ``job``'s audit trail; return every way it disagrees with jobs.states.

    Each status change of the job, of its rows and of their write-backs must be
    an audited step allowed by the transition tables, starting where a new job
    or row starts, each step leaving from where the last one arrived, the last
    one arriving at the status stored now. An empty list is a complete trail.
    """
    entries = (
        AuditEntry.objects.filter(job=job).order_by("pk").values_list("row_id", "action", "data")
    )
    rows = {row.pk: row for row in JobRow.objects.filter(job=job)}
    chains: dict[tuple[str, int | None], list[tuple[str, str]]] = {}
    for row_id, action, data in entries:
        if not isinstance(data, dict) or "from" not in data or "to" not in data:
            continue
        if row_id is None:
            kind = "job"
        else:
            kind = "writeback" if action.startswith("writeback_") else "row"
        chains.setdefault((kind, row_id), []).append((data["from"], data["to"]))
    problems = _chain_problems(
        f"{job}", chains.get(("job", None), []), JobStatus.DRAFT, job.status, JOB_TRANSITIONS
    )
    for row in rows.values():
        for kind, start, now, table in (
            ("row", RowStatus.PENDING, row.status, ROW_TRANSITIONS),
            ("writeback", WritebackStatus.PENDING, row.writeback_status, WRITEBACK_TRANSITIONS),
        ):
            label = f"Row {row.row_number}" + (" write-back" if kind == "writeback" else "")
            problems += _chain_problems(label, chains.get((kind, row.pk), []), start, now, table)
    return problems


def _chain_problems(
    label: str,
    steps: list[tuple[str, str]],
    start: str,
    now: str,
    table: dict[str, frozenset[str]],
) -> list[str]:
    problems, at = [], start
    for number, (source, target) in enumerate(steps, start=1):
        if source != at:
            problems.append(f"{label}: step {number} leaves {source}, but the trail was at {at}.")
        if target not in table.get(source, frozenset()):
            problems.append(f"{label}: step {number} {source} -> {target} is not allowed.")
        at = target
    if at != now:
        problems.append(f"{label} is {now}, but its audit trail ends at {at}.")
    return problems


def audit_source_change(
    sender: Any,
    *,
    source: Any,
    actor: Actor,
    action: str,
    changes: dict[str, Any],
    **kwargs: Any,
) -> None:
    """Record a person's add, change or delete of a data source (datasources.signals)."""
    fields = f": {', '.join(sorted(changes))}" if changes and action == "changed" else ""
    audit_record(
        actor=actor,
        action=f"data_source_{action}",
        message=f"{action.capitalize()} data source “{source.name}”{fields}.",
        data={"data_source": source.pk, "name": source.name, "changes": changes},
    )
