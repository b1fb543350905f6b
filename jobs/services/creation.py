"""Create a job: read the source (streaming), map and validate every row, store them."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import secrets
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction

from datasources.adapters import SourceAdapter, SourceRow, get_adapter
from datasources.headers import find_column
from datasources.mapping import FieldsAsRead, build_shipment
from datasources.models import DataSource
from datasources.validation import MAX_KEY
from jobs.actors import Actor, actor_user
from jobs.filters import DESCRIBED, RowFilter
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.audit import audit_record
from jobs.services.restart_holds import restart_hold_fields
from jobs.states import JobMode, RowStatus, WritebackStatus
from jobs.summaries import rows_numbered
from shipops.errors import DomainError
from shipops.words import counted

INSERT_BATCH = 1000
# How many left-out keys the audit entry lists (the count is always exact).
REPORTED_KEYS = 50
RANGES_SHOWN = 80  # characters of row ranges a job's description names


def session_hash(session_key: str | None) -> str:
    """Return a stable, non-reversible name for an admin session (never the key itself)."""
    return hashlib.sha256(session_key.encode()).hexdigest() if session_key else ""


def row_reference(job_id: int, row_number: int) -> str:
    """Return the unique reference UPS carries for a row (35 characters at most)."""
    return f"SO{job_id}-{row_number}-{secrets.token_hex(3).upper()}"


def stored_key(key: str) -> str:
    """Return the key a row stores: one longer than MAX_KEY is cut and marked with its digest.

    Such a row has an error (datasources.validation.key_error), so it never
    ships and is never written back. The mark keeps the stored key unique in
    the job and unlike any order's own key, so the shipped-orders check and
    the write-back can never take it for another order sharing its start.
    """
    if len(key) <= MAX_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    mark = f"…[cut from {len(key):,} characters, sha256 {digest}]"
    return key[: MAX_KEY - len(mark)] + mark


def job_create(
    *,
    source: DataSource,
    actor: Actor,
    mode: str = JobMode.CONFIRM,
    row_filter: RowFilter | None = None,
    include_already_shipped: bool = False,
    session_key: str | None = None,
    only_keys: set[str] | None = None,
    only_keys_are: str = "",
    held_for: Actor | None = None,
) -> Job:
    """Read ``source`` into a new draft job; rows that fail validation carry their errors.

    ``only_keys``: the orders to take, whatever the filter; ``only_keys_are``
    says which they are in the job's history ("the orders of Job 7").

    Refused (SourceError) if tracking numbers could not be written back to the
    source: nothing may ship that the source would not record as shipped.
    ``held_for`` (a restart's operator): the job is created held, as
    ``restart_hold`` holds one, so that nobody else previews, approves or
    cancels it before the restart is done with it.
    """
    adapter = get_adapter(source)
    adapter.check_write_back()
    row_filter = _filter_on_source_column(row_filter or RowFilter(), adapter, source)
    with transaction.atomic():
        job = Job.objects.create(
            **(restart_hold_fields(held_for) if held_for is not None else {}),
            data_source=source,
            filter=row_filter.to_json(),
            key_column=source.key_column.strip(),
            include_already_shipped=include_already_shipped,
            mode=mode,
            created_by=actor_user(actor),
            session_hash=session_hash(session_key),
        )
        read = _Counted(adapter.iter_rows())
        source_rows: Iterator[SourceRow] = iter(read)
        if only_keys is not None:
            source_rows = (row for row in source_rows if row.key in only_keys)
        counts = _store_rows(job, adapter, source_rows, row_filter, include_already_shipped)
        taken = only_keys_are or row_filter.describe()
        if only_keys is not None:  # rows no filter names: the job says which they are
            rows_taken = _rows_taken(counts["numbers"])
            job.filter = {
                **job.filter,
                DESCRIBED: f"{only_keys_are or 'given orders'}: {rows_taken}",
            }
        if read.count == 0:
            raise DomainError(
                "no_rows",
                f"{source} has no data rows (a header alone, or an empty table): nothing to ship.",
            )
        if counts["rows"] == 0:
            raise DomainError(
                "no_rows",
                f"No rows to ship in {source}: {counts['already_shipped']} already shipped (a "
                "tracking number in the source, or shipped by an earlier job) and the filter "
                f"({taken}) left no others.",
            )
        job.row_count = counts["rows"]
        job.invalid_count = counts["invalid"]
        job.already_shipped_count = counts["already_shipped"]
        # A hold counts from when others can see the job: the commit, after the source's read.
        held = restart_hold_fields(held_for) if held_for is not None else {}
        for name, value in held.items():
            setattr(job, name, value)
        job.save(
            update_fields=["filter", "row_count", "invalid_count", "already_shipped_count", *held]
        )
        notices = adapter.notices()  # how the source was read: an encoding, unnamed columns
        audit_record(
            actor=actor,
            action="job_created",
            job=job,
            message=(
                f"Created from {source} ({taken}): {counted(job.row_count, 'row')}, "
                f"{job.invalid_count} with errors, {job.already_shipped_count} already shipped "
                f"and left out.{_voided_note(counts['voided_tracking_keys'])}"
                + "".join(f" {notice}" for notice in notices)
            ),
            data={
                "filter": job.filter,
                "mode": mode,
                "already_shipped_keys": counts["already_shipped_keys"],
                "voided_tracking_keys": counts["voided_tracking_keys"],
                "notices": notices,
            },
        )
    return job


def _filter_on_source_column(
    row_filter: RowFilter, adapter: SourceAdapter, source: DataSource
) -> RowFilter:
    """Return ``row_filter`` naming the source's own column (matched as headers are).

    A column the source does not have is refused by name, rather than leaving
    no rows and saying only that the filter left none.
    """
    if not row_filter.column:
        return row_filter
    headers = adapter.headers()
    column = find_column(headers, row_filter.column)
    if column is None:
        shown = ", ".join(f'"{header}"' for header in headers[:30])
        raise DomainError(
            "filter_column_missing",
            f'{source} has no column "{row_filter.column}" to filter on. Its columns: {shown}.',
        )
    return dataclasses.replace(row_filter, column=column)


def _shipped_before(
    adapter: SourceAdapter, chunk: tuple[SourceRow, ...], unwritten: set[str]
) -> set[str]:
    """Return the keys in ``chunk`` whose order an earlier job shipped from the source.

    ShipOps's own record, beside the tracking number in the source: a source
    that lost its write-back (a file restored from a copy, a re-upload, a
    write-back that failed) never ships those orders twice. An earlier job's
    row is the same order when its key names the same column (as the source
    matches names: "Order ID" is "order_id"; a table's blank key column is its
    primary key) and, in a file without a key column, when it also held the
    same content: tomorrow's file may hold another order on row 12. There, a
    row with the content of one in ``unwritten`` (``_unwritten_contents``) is
    that order wherever it now is.
    """
    source = adapter.source
    current = adapter.key_identity(source.key_column)
    checksums = {row.key: row.checksum for row in chunk}
    shipped = JobRow.objects.filter(
        job__data_source=source, status=RowStatus.SHIPPED, source_key__in=list(checksums)
    )
    if not current:  # by row number: the same content too (index row_source_key_checksum)
        shipped = shipped.filter(source_checksum__in=set(checksums.values()))
    found = shipped.values_list("source_key", "source_checksum", "job__key_column").distinct()
    keys = {
        key
        for key, checksum, column in found
        if adapter.key_identity(column) == current and (current or checksum == checksums[key])
    }
    return keys | {key for key, content in checksums.items() if content in unwritten}


def _unwritten_contents(adapter: SourceAdapter) -> set[str]:
    """In a file without a key column, the contents (checksums) of its shipped rows whose
    tracking number never reached the file (the write-back failed: rows were inserted above
    them, say): nothing in the file says they shipped, wherever they are now. One query."""
    if adapter.key_identity(adapter.source.key_column):
        return set()
    rows = (
        JobRow.objects.filter(job__data_source=adapter.source, status=RowStatus.SHIPPED)
        .exclude(writeback_status=WritebackStatus.WRITTEN)
        .values_list("source_checksum", "job__key_column")
    )
    return {checksum for checksum, column in rows if not adapter.key_identity(column)}


def _store_rows(
    job: Job,
    adapter: SourceAdapter,
    source_rows: Any,
    row_filter: RowFilter,
    include_already_shipped: bool,
) -> dict[str, Any]:
    numbers: list[int] = []
    counts: dict[str, Any] = {"rows": 0, "invalid": 0, "already_shipped": 0, "numbers": numbers}
    left_out: list[str] = []
    voided_taken: list[str] = []
    voided = _VoidedTracking(adapter.source)
    unwritten = set() if include_already_shipped else _unwritten_contents(adapter)
    taken = (row for row in source_rows if row_filter.matches(row.number, row.values))
    for chunk in itertools.batched(taken, INSERT_BATCH):
        shipped_before = (
            set() if include_already_shipped else _shipped_before(adapter, chunk, unwritten)
        )
        batch: list[JobRow] = []
        for source_row in chunk:
            mapped = build_shipment(source_row, adapter.source)
            tracking = mapped.already_shipped_tracking
            was_voided = bool(tracking) and not include_already_shipped and tracking in voided
            if not include_already_shipped and (
                (tracking and not was_voided) or source_row.key in shipped_before
            ):
                counts["already_shipped"] += 1
                if len(left_out) < REPORTED_KEYS:
                    left_out.append(source_row.key)
                continue
            if was_voided and len(voided_taken) < REPORTED_KEYS:
                voided_taken.append(source_row.key)
            errors = [dataclasses.asdict(error) for error in mapped.errors]
            # A valid row has its shipment; one with errors, what could be read of it.
            as_read = FieldsAsRead() if mapped.shipment else mapped.as_read
            batch.append(
                JobRow(
                    job=job,
                    row_number=source_row.number,
                    source_key=stored_key(source_row.key),
                    source_checksum=source_row.checksum,
                    shipment=mapped.shipment.to_json() if mapped.shipment else {},
                    recipient_as_read=as_read.recipient,
                    city_as_read=as_read.city,
                    state_as_read=as_read.state,
                    service_code_as_read=as_read.service_code,
                    errors=errors,
                    is_valid=not errors,
                    reference=row_reference(job.pk, source_row.number),
                )
            )
            counts["rows"] += 1
            counts["invalid"] += bool(errors)
            numbers.append(source_row.number)
        JobRow.objects.bulk_create(batch)
    counts["already_shipped_keys"] = left_out
    counts["voided_tracking_keys"] = voided_taken
    return counts


def _rows_taken(numbers: list[int]) -> str:
    """Return "rows 41-44" (or "1 row", "300 rows" when the ranges would not fit a line)."""
    if not numbers:
        return "no rows"
    said = rows_numbered(sorted(numbers))
    return said if len(said) <= RANGES_SHOWN else counted(len(numbers), "row")


def _voided_note(keys: list[str]) -> str:
    if not keys:
        return ""
    return (
        f" Taken although the source shows a tracking number, because ShipOps voided that "
        f"shipment: key(s) {', '.join(keys)}."
    )


class _Counted:
    """The source's rows, counting those read: a source with none says so."""

    def __init__(self, rows: Iterable[SourceRow]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[SourceRow]:
        for row in self.rows:
            self.count += 1
            yield row


class _VoidedTracking:
    """The tracking numbers of a source's rows whose shipments ShipOps voided.

    A void-first restart leaves the voided numbers in the source until new
    ones replace them. If the new shipments never come (the restart stopped
    and its job was cancelled, or the new job was), those orders are not
    shipped, and a new job takes them. Read once, at the first question: a
    source without tracking numbers never asks.
    """

    def __init__(self, source: DataSource) -> None:
        self.source = source
        self._numbers: set[str] | None = None

    def __contains__(self, number: object) -> bool:
        if self._numbers is None:
            voided = JobRow.objects.filter(job__data_source=self.source, status=RowStatus.VOIDED)
            # A row voided by a restart that then stopped is pending again: its audit says so.
            restored = AuditEntry.objects.filter(
                job__data_source=self.source, action="row_void_restored"
            ).values_list("data__voided_tracking_number", flat=True)
            self._numbers = {
                *voided.values_list("tracking_number", flat=True),
                *(str(restored_number) for restored_number in restored),
            }
        return number in self._numbers
