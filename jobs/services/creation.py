"""Create a job: read the source (streaming), map and validate every row, store them."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict
from typing import Any

from django.db import transaction

from datasources.adapters import get_adapter
from datasources.mapping import build_shipment
from datasources.models import DataSource
from jobs.actors import Actor, actor_user
from jobs.filters import RowFilter
from jobs.models import Job, JobRow
from jobs.services.audit import audit_record
from jobs.states import JobMode
from shipops.errors import DomainError

INSERT_BATCH = 1000
# How many left-out keys the audit entry lists (the count is always exact).
REPORTED_KEYS = 50


def session_hash(session_key: str | None) -> str:
    """Return a stable, non-reversible name for an admin session (never the key itself)."""
    return hashlib.sha256(session_key.encode()).hexdigest() if session_key else ""


def row_reference(job_id: int, row_number: int) -> str:
    """Return the unique reference UPS carries for a row (35 characters at most)."""
    return f"SO{job_id}-{row_number}-{secrets.token_hex(3).upper()}"


def job_create(
    *,
    source: DataSource,
    actor: Actor,
    mode: str = JobMode.CONFIRM,
    row_filter: RowFilter | None = None,
    include_already_shipped: bool = False,
    session_key: str | None = None,
    only_keys: set[str] | None = None,
) -> Job:
    """Read ``source`` into a new draft job; rows that fail validation carry their errors."""
    row_filter = row_filter or RowFilter()
    adapter = get_adapter(source)
    with transaction.atomic():
        job = Job.objects.create(
            data_source=source,
            filter=row_filter.to_json(),
            mode=mode,
            created_by=actor_user(actor),
            session_hash=session_hash(session_key),
        )
        source_rows = adapter.iter_rows()
        if only_keys is not None:
            source_rows = (row for row in source_rows if row.key in only_keys)
        counts = _store_rows(job, source, source_rows, row_filter, include_already_shipped)
        if counts["rows"] == 0:
            raise DomainError(
                "no_rows",
                f"No rows to ship in {source}: {counts['already_shipped']} already have tracking "
                f"numbers and the filter ({row_filter.describe()}) left no others.",
            )
        job.row_count = counts["rows"]
        job.invalid_count = counts["invalid"]
        job.already_shipped_count = counts["already_shipped"]
        job.save(update_fields=["row_count", "invalid_count", "already_shipped_count"])
        audit_record(
            actor=actor,
            action="job_created",
            job=job,
            message=(
                f"Created from {source} ({row_filter.describe()}): {job.row_count} rows, "
                f"{job.invalid_count} with errors, {job.already_shipped_count} already shipped "
                f"and left out."
            ),
            data={
                "filter": job.filter,
                "mode": mode,
                "already_shipped_keys": counts["already_shipped_keys"],
            },
        )
    return job


def _store_rows(
    job: Job,
    source: DataSource,
    source_rows: Any,
    row_filter: RowFilter,
    include_already_shipped: bool,
) -> dict[str, Any]:
    counts: dict[str, Any] = {"rows": 0, "invalid": 0, "already_shipped": 0}
    left_out: list[str] = []
    batch: list[JobRow] = []
    for source_row in source_rows:
        if not row_filter.matches(source_row.number, source_row.values):
            continue
        mapped = build_shipment(source_row, source)
        if mapped.already_shipped_tracking and not include_already_shipped:
            counts["already_shipped"] += 1
            if len(left_out) < REPORTED_KEYS:
                left_out.append(source_row.key)
            continue
        errors = [asdict(error) for error in mapped.errors]
        batch.append(
            JobRow(
                job=job,
                row_number=source_row.number,
                source_key=source_row.key,
                source_checksum=source_row.checksum,
                shipment=mapped.shipment.to_json() if mapped.shipment else {},
                errors=errors,
                is_valid=not errors,
                reference=row_reference(job.pk, source_row.number),
            )
        )
        counts["rows"] += 1
        counts["invalid"] += bool(errors)
        if len(batch) >= INSERT_BATCH:
            JobRow.objects.bulk_create(batch)
            batch = []
    JobRow.objects.bulk_create(batch)
    counts["already_shipped_keys"] = left_out
    return counts
