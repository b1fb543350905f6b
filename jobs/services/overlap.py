"""One order of a source is shipped by one job: what approval checks against the other jobs.

Two jobs read from one source at once (a double click, two colleagues, a
job made yesterday and approved today) hold the same orders. Approval,
serialised per source, refuses a job while another job may still ship any
of its rows, and skips the rows another job has shipped (unless the job was
made to ship such rows again: a restart, or "also take rows that already
have a tracking number"). An order is the same when its key names it: the
key alone where the source has a key column (compared as
``SourceAdapter.key_identity`` does), the row number and the row's content
where rows are found by their number (tomorrow's file may hold another
order on row 12).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Q

from datasources.adapters import SourceAdapter
from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.services.audit import audit_record
from jobs.services.estimate import job_rows_left_out
from jobs.services.transitions import rows_transition_bulk
from jobs.states import JOB_FINAL_STATUSES, UNDER_WAY, JobStatus, RowStatus
from jobs.summaries import rows_numbered
from shipops.errors import DomainError

# Rows that may be at UPS whatever their job's status: a person settles them.
MAYBE_AT_UPS = (RowStatus.IN_FLIGHT, RowStatus.UNKNOWN)
# Rows that a job under way may still ship: pending, failed (resume retries
# them), voided (a restart that stops makes them pending again).
MAY_SHIP_WHILE_UNDER_WAY = (RowStatus.PENDING, RowStatus.FAILED, RowStatus.VOIDED)
NAMED_JOBS = 5


@dataclass
class Overlap:
    """This job's pending rows that other jobs hold: row numbers here, by the other job."""

    may_ship: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    shipped: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    shipped_row_ids: set[int] = field(default_factory=set)
    statuses: dict[int, str] = field(default_factory=dict)  # the other jobs' statuses
    # The other jobs that read these rows through another data source: its name.
    other_sources: dict[int, str] = field(default_factory=dict)


def job_overlap(job: Job, adapter: SourceAdapter, *, sources: Collection[int]) -> Overlap:
    """Return which of ``job``'s pending rows other jobs hold, of the ``sources`` reading them.

    ``sources``: ``datasources.places.same_place_source_ids`` of the job's source.
    """
    pending = JobRow.objects.filter(job=job, status=RowStatus.PENDING)
    mine = {
        key: (pk, number, checksum)
        for pk, number, key, checksum in pending.values_list(
            "pk", "row_number", "source_key", "source_checksum"
        )
    }
    identity = adapter.key_identity(job.key_column)
    relevant = Q(status__in=MAYBE_AT_UPS) | Q(
        status__in=MAY_SHIP_WHILE_UNDER_WAY, job__status__in=UNDER_WAY
    )
    if not job.include_already_shipped:
        relevant |= Q(status=RowStatus.SHIPPED)
    others = (
        JobRow.objects.filter(relevant, source_key__in=pending.values("source_key"))
        .filter(job__data_source_id__in=sources)
        .exclude(job_id=job.pk)
    )
    if not identity:  # by row number: the same content too (index row_source_key_checksum)
        others = others.filter(source_checksum__in=pending.values("source_checksum"))
    overlap = Overlap()
    found = others.values_list(
        "source_key",
        "source_checksum",
        "status",
        "job_id",
        "job__status",
        "job__key_column",
        "job__data_source_id",
        "job__data_source__name",
    )
    for key, checksum, status, other, other_status, key_column, source, name in found.iterator(
        2000
    ):
        pk, number, my_checksum = mine[key]
        if adapter.key_identity(key_column) != identity or (
            not identity and checksum != my_checksum
        ):
            continue  # another column's key, or the same row number holding another order
        overlap.statuses[other] = other_status
        if source != job.data_source_id:
            overlap.other_sources[other] = name
        if status == RowStatus.SHIPPED:
            overlap.shipped[other].append(number)
            overlap.shipped_row_ids.add(pk)
        else:
            overlap.may_ship[other].append(number)
    return overlap


def _jobs_named(overlap: Overlap, jobs: list[int]) -> str:
    named = ", ".join(
        f"Job {other} ({JobStatus(overlap.statuses[other]).label.lower()}"
        + (
            f', of the data source "{overlap.other_sources[other]}", which reads the same rows)'
            if other in overlap.other_sources
            else ")"
        )
        for other in jobs[:NAMED_JOBS]
    )
    return named + (" and more" if len(jobs) > NAMED_JOBS else "")


def refuse_rows_in_another_job(job: Job, overlap: Overlap) -> None:
    """Raise DomainError ``rows_in_another_job`` if another job may still ship ``job``'s rows."""
    if not overlap.may_ship:
        return
    jobs = sorted(overlap.may_ship)
    numbers = sorted({number for other in jobs for number in overlap.may_ship[other]})
    them = "it" if len(jobs) == 1 else "them"
    # A job made to ship shipped rows again (a restart) skips none of them.
    then = "" if job.include_already_shipped else f"; the rows {them} shipped are then skipped here"
    if all(overlap.statuses[other] in JOB_FINAL_STATUSES for other in jobs):
        # Finished jobs hold only rows whose outcome is unknown: a person settles them.
        advice = (
            f"Settle those rows on {'its' if len(jobs) == 1 else 'their'} page first (mark each "
            f"shipped, with its tracking number, or not shipped){then}."
        )
    else:
        advice = (
            f"Finish {them} (resume a stopped job to the end, settle rows whose outcome is "
            f"unknown) or cancel {them} first{then}."
        )
    raise DomainError(
        "rows_in_another_job",
        f"{_jobs_named(overlap, jobs)} may still ship {rows_numbered(numbers)} of {job}, or may "
        f"have shipped {'it' if len(numbers) == 1 else 'them'}: approving both would ship "
        f"{'that order' if len(numbers) == 1 else 'those orders'} twice. {advice}",
        details={"jobs": jobs, "rows": numbers},
    )


SHIPPED_ELSEWHERE = "shipped_elsewhere"  # a skipped row's code: another job shipped its order


def skip_rows_shipped_elsewhere(job: Job, overlap: Overlap, actor: Actor) -> int:
    """Skip ``job``'s rows that another job shipped; return how many.

    Refuses (``nothing_left_to_ship``) when no row would be left to ship.
    """
    if not overlap.shipped:
        return 0
    jobs = sorted(overlap.shipped)
    numbers = sorted({number for other in jobs for number in overlap.shipped[other]})
    were = "was" if len(numbers) == 1 else "were"
    said = f"{rows_numbered(numbers).capitalize()} {were} shipped by {_jobs_named(overlap, jobs)}"
    left = JobRow.objects.filter(job=job, status=RowStatus.PENDING).exclude(
        pk__in=overlap.shipped_row_ids
    )
    if not left.exists():
        raise DomainError(
            "nothing_left_to_ship",
            f"{said}, and no other row of {job} is left to ship: cancel it.",
        )
    message = f"{said}; they are skipped here."
    # Each row says which job shipped it (the Problem column, the results export).
    shipper: dict[int, int] = {}  # row number -> the first of ``jobs`` that shipped it
    for other in reversed(jobs):
        shipper.update(dict.fromkeys(overlap.shipped[other], other))
    shipped_by: dict[int, list[int]] = defaultdict(list)
    for number in numbers:
        shipped_by[shipper[number]].append(number)
    skipped = 0
    for other, its_numbers in shipped_by.items():
        skipped += rows_transition_bulk(
            rows=JobRow.objects.filter(
                pk__in=overlap.shipped_row_ids, job=job, row_number__in=its_numbers
            ),
            to_status=RowStatus.SKIPPED,
            actor=actor,
            action="row_shipped_elsewhere",
            message=message,
            changes={"error_code": SHIPPED_ELSEWHERE, "error_message": f"Shipped by Job {other}."},
        )
    job_rows_left_out(job, skipped)
    audit_record(
        actor=actor,
        action="rows_shipped_elsewhere",
        job=job,
        message=message,
        data={"rows": numbers, "jobs": jobs},
    )
    return skipped
