"""One order of a source is shipped by one job: what approval checks against the other jobs.

Two jobs read from one source at once (a double click, two colleagues, a
job made yesterday and approved today) hold the same orders. Approval,
serialised per source, refuses a job while another job may still ship any
of its rows, and skips the rows another job shipped after this one was
created. An order is the same when its key names it: the key alone where the
source has a key column (compared as ``SourceAdapter.key_identity`` does),
the row number and the row's content where rows are found by their number
(tomorrow's file may hold another order on row 12).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F

from datasources.adapters import SourceAdapter
from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.services.audit import audit_record
from jobs.services.transitions import rows_transition_bulk
from jobs.states import UNDER_WAY, RowStatus
from jobs.summaries import number_ranges
from shipops.errors import DomainError

MAY_STILL_SHIP = (RowStatus.PENDING, RowStatus.IN_FLIGHT, RowStatus.UNKNOWN)
NAMED_JOBS = 5


@dataclass
class Overlap:
    """This job's pending rows that other jobs hold: by the other job, row numbers here."""

    may_ship: dict[Job, list[int]] = field(default_factory=lambda: defaultdict(list))
    shipped_since: dict[Job, list[int]] = field(default_factory=lambda: defaultdict(list))
    shipped_row_ids: set[int] = field(default_factory=set)


def job_overlap(job: Job, adapter: SourceAdapter) -> Overlap:
    """Return which of ``job``'s pending rows other jobs of its source hold."""
    pending = JobRow.objects.filter(job=job, status=RowStatus.PENDING)
    mine = {
        key: (pk, number, checksum)
        for pk, number, key, checksum in pending.values_list(
            "pk", "row_number", "source_key", "source_checksum"
        )
    }
    identity = adapter.key_identity(job.key_column)
    others = (
        JobRow.objects.filter(
            job__data_source_id=job.data_source_id, source_key__in=pending.values("source_key")
        )
        .exclude(job_id=job.pk)
        .select_related("job")
        .only("source_key", "source_checksum", "status", "shipped_at", "job")
    )
    overlap = Overlap()
    for row in others.iterator(chunk_size=2000):
        if adapter.key_identity(row.job.key_column) != identity:
            continue
        pk, number, checksum = mine[row.source_key]
        if not identity and row.source_checksum != checksum:
            continue  # the same row number, another order
        if row.status in MAY_STILL_SHIP and (
            row.job.status in UNDER_WAY or row.status != RowStatus.PENDING
        ):
            overlap.may_ship[row.job].append(number)
        elif (
            row.status == RowStatus.SHIPPED and row.shipped_at and row.shipped_at >= job.created_at
        ):
            overlap.shipped_since[row.job].append(number)
            overlap.shipped_row_ids.add(pk)
    return overlap


def refuse_rows_in_another_job(job: Job, overlap: Overlap) -> None:
    """Raise DomainError ``rows_in_another_job`` if another job may still ship ``job``'s rows."""
    if not overlap.may_ship:
        return
    jobs = sorted(overlap.may_ship, key=lambda other: other.pk)
    numbers = sorted({number for other in jobs for number in overlap.may_ship[other]})
    named = ", ".join(
        f"{other} ({other.get_status_display().lower()})" for other in jobs[:NAMED_JOBS]
    )
    one = len(jobs) == 1
    them = "it" if one else "them"
    raise DomainError(
        "rows_in_another_job",
        f"{named}{' and more' if len(jobs) > NAMED_JOBS else ''} of this data source may still "
        f"ship rows {number_ranges(numbers)} of {job}: approving both would ship those orders "
        f"twice. Let {them} finish (rows {'it ships are' if one else 'they ship are'} then "
        f"skipped here) or cancel {them}, and settle any of those rows whose outcome is "
        "unknown, first.",
        details={"jobs": [other.pk for other in jobs], "rows": numbers},
    )


def skip_rows_shipped_elsewhere(job: Job, overlap: Overlap, actor: Actor) -> int:
    """Skip ``job``'s rows that another job shipped after ``job`` was created; return how many.

    Refuses (``nothing_left_to_ship``) when no row would be left to ship.
    """
    if not overlap.shipped_since:
        return 0
    jobs = sorted(overlap.shipped_since, key=lambda other: other.pk)
    numbers = sorted({number for other in jobs for number in overlap.shipped_since[other]})
    by = ", ".join(str(other) for other in jobs)
    said = f"Rows {number_ranges(numbers)} were shipped by {by} after this job was created"
    left = JobRow.objects.filter(job=job, status=RowStatus.PENDING).exclude(
        pk__in=overlap.shipped_row_ids
    )
    if not left.exists():
        raise DomainError(
            "nothing_left_to_ship",
            f"{said}, and they were all its rows: nothing is left to ship. Cancel {job}.",
        )
    message = f"{said}; they are skipped here."
    skipped = rows_transition_bulk(
        rows=JobRow.objects.filter(pk__in=overlap.shipped_row_ids),
        to_status=RowStatus.SKIPPED,
        actor=actor,
        action="row_shipped_elsewhere",
        message=message,
    )
    Job.objects.filter(pk=job.pk).update(skipped_count=F("skipped_count") + skipped)
    audit_record(
        actor=actor,
        action="rows_shipped_elsewhere",
        job=job,
        message=message,
        data={"rows": numbers, "jobs": [other.pk for other in jobs]},
    )
    return skipped
