"""Write tracking numbers back to the source: buffered for files, flushed in batches.

Tracking numbers are durable in the database at phase B; the source file
catches up by coalesced flushes, each one atomic replace of the whole file,
and always at the end. Flushes are SHIPOPS_WRITEBACK_FLUSH_SECONDS apart, or
FLUSH_SPACING times the last flush's duration when that is longer: a flush
costs time proportional to the file, so a fixed interval would make a large
batch's write-back quadratic; spaced this way it stays linear.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from datasources.adapters import get_adapter
from datasources.adapters.base import SourceAdapter, WriteBack
from datasources.errors import RowsNotWritten
from datasources.models import DataSource, SourceKind
from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.services.lease import Lease, lease_renew
from jobs.services.transitions import job_transition, rows_writeback_bulk
from jobs.states import JobStatus, RowStatus, WritebackStatus
from shipops.errors import DomainError
from shipops.words import counted

logger = logging.getLogger(__name__)

# The next flush waits this many times the last one's duration: flushing then takes at
# most 1/21 of a batch's time, however large the file grows.
FLUSH_SPACING = 20


def writes_in_row_transaction(source: DataSource) -> bool:
    """Return whether the source's UPDATE can commit together with a row's phase B."""
    return source.kind == SourceKind.DATABASE and (source.db_alias or "default") == "default"


@dataclass
class WritebackBuffer:
    """Tracking numbers shipped but not yet in the source file (or other database)."""

    adapter: SourceAdapter
    key_column: str  # the job's (Job.key_column)
    lease: Lease
    actor: Actor
    pending: dict[int, WriteBack] = field(default_factory=dict)
    last_flush: float = field(default_factory=time.monotonic)
    last_flush_seconds: float = 0.0

    def add(self, row_id: int, update: WriteBack) -> None:
        self.pending[row_id] = update
        if time.monotonic() - self.last_flush >= self.flush_interval():
            self.flush()

    def flush_interval(self) -> float:
        """Return the seconds between flushes: the setting, or more after a slow flush."""
        base = settings.SHIPOPS_WRITEBACK_FLUSH_SECONDS
        if base <= 0:
            return 0.0  # no coalescing: a flush after every row (crash drills, tests)
        return max(base, FLUSH_SPACING * self.last_flush_seconds)

    def flush(self) -> None:
        """Write every buffered tracking number in one operation; failures are recorded."""
        if self.pending:
            batch, self.pending = self.pending, {}
            started = time.monotonic()
            write_back_rows(
                adapter=self.adapter,
                updates=batch,
                key_column=self.key_column,
                lease=self.lease,
                actor=self.actor,
            )
            self.last_flush_seconds = time.monotonic() - started
        self.last_flush = time.monotonic()


def write_back_rows(
    *,
    adapter: SourceAdapter,
    updates: dict[int, WriteBack],
    key_column: str,
    lease: Lease | None,
    actor: Actor,
) -> bool:
    """Write ``updates`` (row id -> write-back) to the source and record the outcome per row.

    ``key_column`` is the one the rows' keys were made under (``Job.key_column``):
    if the source's has changed since, the keys no longer find those rows.
    """
    try:
        adapter.check_keys(key_column)
        adapter.write_back(list(updates.values()))
    except RowsNotWritten as error:  # the rest were written
        refused = {pk: update for pk, update in updates.items() if update.key in error.keys}
        logger.warning(
            "Write-back of %d of %d rows refused: %s", len(refused), len(updates), error.message
        )
        _record(refused, lease, actor, WritebackStatus.FAILED, error.message)
        if written := {pk: u for pk, u in updates.items() if pk not in refused}:
            _record(written, lease, actor, WritebackStatus.WRITTEN, "")
        return False
    except (DomainError, OSError) as error:
        message = getattr(error, "message", None) or str(error)
        logger.warning("Write-back of %d rows failed: %s", len(updates), message)
        _record(updates, lease, actor, WritebackStatus.FAILED, message)
        return False
    _record(updates, lease, actor, WritebackStatus.WRITTEN, "")
    return True


def _record(
    updates: dict[int, WriteBack], lease: Lease | None, actor: Actor, status: str, error: str
) -> None:
    rows = JobRow.objects.filter(pk__in=list(updates))
    with transaction.atomic():
        if lease is not None:
            lease_renew(lease)
        # A row already written (by a stopped job's catch-up and its resumed worker both,
        # say) stays written: the source holds its tracking number either way.
        rows = rows.exclude(writeback_status=WritebackStatus.WRITTEN)
        if status == WritebackStatus.FAILED:
            message = f"Could not write the tracking number back to the source: {error}"
        else:
            message = "Tracking number and ship time written back to the source."
        rows_writeback_bulk(rows=rows, to_status=status, actor=actor, message=message, error=error)


def unwritten_rows(job: Job) -> dict[int, WriteBack]:
    """Return the job's shipped rows whose tracking number is not yet in the source."""
    rows = JobRow.objects.filter(
        job=job,
        status=RowStatus.SHIPPED,
        writeback_status__in=[WritebackStatus.PENDING, WritebackStatus.FAILED],
    ).only("pk", "source_key", "source_checksum", "tracking_number", "shipped_at")
    return {
        row.pk: WriteBack(
            key=row.source_key,
            tracking_number=row.tracking_number,
            shipped_at=row.shipped_at,
            checksum=row.source_checksum,
        )
        for row in rows
        if row.shipped_at is not None
    }


def job_retry_writeback(*, job: Job, actor: Actor) -> Job:
    """Write the job's unwritten tracking numbers to the source again; complete it if all land."""
    if job.status == JobStatus.RUNNING:
        raise DomainError(
            "job_running", f"{job} is running: it writes its tracking numbers back when it ends."
        )
    updates = unwritten_rows(job)
    if not updates:
        said = (
            f"Every tracking number of {job} is already in the source."
            if job.shipped_count
            else f"{job} has shipped nothing: it has no tracking number to write back."
        )
        raise DomainError("nothing_to_write", said)
    _write_back_job(job=job, updates=updates, actor=actor)
    job.refresh_from_db()
    return job


def job_write_back_stopped(*, job: Job, actor: Actor) -> None:
    """Write the unwritten tracking numbers of a job no worker runs to its source.

    Called once a cancel, a late UPS answer or a person's "shipped" decision
    has committed: no worker's buffer holds those rows any more. A running job
    is left alone (its worker writes back when it ends). A failure is recorded
    as the executor records it (rows *failed*, the job's count, "Retry
    write-back") and never raised: the change before it stands.
    """
    try:
        current = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()
        if current in (None, JobStatus.RUNNING):
            return
        updates = unwritten_rows(job)
        if updates:
            _write_back_job(job=job, updates=updates, actor=actor)
    except Exception:
        # Not a source problem (those are recorded on the rows): a bug or the database.
        # The tracking numbers are safe in ShipOps; the caller's change must stand.
        logger.exception("Job %s: writing tracking numbers back after it stopped failed.", job.pk)


def _write_back_job(*, job: Job, updates: dict[int, WriteBack], actor: Actor) -> None:
    """Write ``updates`` of a job no worker runs; count failures, complete it if all land."""
    adapter = get_adapter(job.data_source)
    write_back_rows(
        adapter=adapter, updates=updates, key_column=job.key_column, lease=None, actor=actor
    )
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        outcome = job_outcome(locked)
        changes = {"writeback_failed_count": outcome["writeback_failed"]}
        if (
            locked.status == JobStatus.COMPLETED_WITH_WARNINGS
            and outcome["status"] == JobStatus.COMPLETED
        ):
            job_transition(
                job=locked,
                to_status=JobStatus.COMPLETED,
                actor=actor,
                action="writeback_retried",
                message=(
                    f"Write-back retried: {counted(len(updates), 'tracking number')} written."
                ),
                changes=changes,
            )
        else:
            Job.objects.filter(pk=locked.pk).update(**changes)


def job_outcome(job: Job) -> dict[str, Any]:
    """Return how a job whose rows are all done ends: completed, or with write-back warnings."""
    counts = JobRow.objects.filter(job=job).aggregate(
        shipped=Count("pk", filter=Q(status=RowStatus.SHIPPED)),
        writeback_failed=Count(
            "pk",
            filter=Q(status=RowStatus.SHIPPED) & ~Q(writeback_status=WritebackStatus.WRITTEN),
        ),
    )
    if counts["writeback_failed"]:
        return {
            **counts,
            "status": JobStatus.COMPLETED_WITH_WARNINGS,
            "message": (
                f"All rows done: {counts['shipped']} shipped, but {counts['writeback_failed']} "
                f"tracking numbers could not be written back to the source. They are safe in "
                f"ShipOps; use “Retry write-back” once the source is writable."
            ),
        }
    return {
        **counts,
        "status": JobStatus.COMPLETED,
        "message": f"All rows done: {counts['shipped']} shipped and written back.",
    }
