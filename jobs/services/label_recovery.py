"""Fetch again, from UPS's Label Recovery, the labels of shipped rows that have none.

A row ships without a label in ShipOps when UPS's ship answer was lost (resume
found the shipment by its reference, or a person marked the row shipped), or
when its label could not be stored. The parcel still needs its label. ShipOps
asks UPS for it right after a row is settled, when UPS has confirmed the
tracking number under the row's reference; a person can ask again (job page,
API, ``recover_jobs --fetch-labels``) for the job's rows still without one,
each number checked at UPS first. Fetches never hold recovery or a page for
long: one try each, with a short read timeout, within a time budget. Asking
UPS for a label changes nothing at UPS; storing it, and UPS having none, are
audited.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from jobs.actors import Actor
from jobs.models import AuditEntry, Job, JobRow
from jobs.selectors import rows_without_label
from jobs.services.audit import audit_record
from jobs.shipping import label_file
from jobs.states import RowStatus
from shipops.errors import DomainError
from ups.client import UpsClient
from ups.errors import UpsDefinitiveError, UpsError

logger = logging.getLogger(__name__)

# The format the executor ships with (UpsClient.prepare_ship's default).
LABEL_FORMAT = "GIF"
LABEL_FETCHED = "label_fetched"
LABEL_NOT_FOUND = "label_not_found"
# One try per call, answered within this many seconds, or the fetch stops.
FETCH_READ_TIMEOUT = 10.0
# What one press of the page's button (or one API call) may take: a web request ends in time.
FETCH_BUDGET_SECONDS = 20.0


class LabelNotFound(Exception):
    """UPS gives no label for the row: an unknown number, or another parcel's."""


def label_client() -> UpsClient:
    """A UPS client for label fetches: no retry, a short read timeout."""
    return UpsClient(max_retries=0, read_timeout=FETCH_READ_TIMEOUT)


def row_fetch_label(
    *, row: JobRow, actor: Actor, client: UpsClient, confirmed: bool = False
) -> bool:
    """Fetch ``row``'s label from UPS and keep it; False if the row got one meanwhile.

    Unless ``confirmed`` (UPS just named the number under the row's reference),
    the number is first tracked at UPS: a number UPS does not know, or knows
    under another reference, raises LabelNotFound, since that label would be
    another parcel's. Raises UpsError when UPS cannot be asked.
    """
    if not confirmed:
        _check_at_ups(row, client)
    try:
        recovered = client.recover_label(row.tracking_number, label_format=LABEL_FORMAT)
    except UpsDefinitiveError as error:
        raise LabelNotFound(error.message) from error
    stored = label_file(
        reference=row.reference, label_format=recovered.label_format, content=recovered.label_bytes
    )
    row.label.save(stored.name or f"{row.reference}.label", stored, save=False)
    try:
        kept = _keep(row, recovered.label_format, actor)
    except BaseException:
        row.label.delete(save=False)  # nothing points at it
        raise
    if kept:
        row.label_format = recovered.label_format
    else:  # another fetch stored one first, or the row was voided: keep that state
        row.label.delete(save=False)
    return kept


def _check_at_ups(row: JobRow, client: UpsClient) -> None:
    try:
        packages = client.track(row.tracking_number)
    except UpsDefinitiveError as error:  # not a number UPS can track ("Invalid inquiry number")
        raise LabelNotFound(error.message) from error
    if not packages:
        raise LabelNotFound(f"UPS does not know the tracking number {row.tracking_number}.")
    if not any(row.reference in package.reference_numbers for package in packages):
        raise LabelNotFound(
            f"UPS has {row.tracking_number} under another reference than this row's "
            f"({row.reference}): its label would be another parcel's. Check the number."
        )


def _keep(row: JobRow, label_format: str, actor: Actor) -> bool:
    with transaction.atomic():
        kept = JobRow.objects.filter(
            pk=row.pk, status=RowStatus.SHIPPED, label="", tracking_number=row.tracking_number
        ).update(label=row.label.name, label_format=label_format, updated_at=timezone.now())
        if kept:
            audit_record(
                actor=actor,
                action=LABEL_FETCHED,
                message=f"Label of tracking {row.tracking_number} fetched from UPS.",
                row=row,
                data={"tracking_number": row.tracking_number, "format": label_format},
            )
    return bool(kept)


def _say_not_found(row: JobRow, actor: Actor, why: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=LABEL_NOT_FOUND,
            message=f"No label from UPS for tracking {row.tracking_number}: {why}",
            row=row,
            data={"tracking_number": row.tracking_number},
        )


def rows_fetch_labels_quietly(*, rows: list[JobRow], actor: Actor) -> None:
    """Fetch the labels of rows just found at UPS by their reference; failures only log.

    A row left without its label is named on the job page, with a button to
    ask again. The first failure to reach UPS ends the fetch: no row waits
    for UPS more than once.
    """
    if not rows:
        return
    client = label_client()
    try:
        for row in rows:
            try:
                row_fetch_label(row=row, actor=actor, client=client, confirmed=True)
            except LabelNotFound as error:
                _say_not_found(row, actor, str(error))
    except UpsError as error:
        logger.warning("Labels of %s not fetched after it was settled: %s", rows[0].job, error)
    except Exception:  # never let a label stop recovery or undo a decision
        logger.exception("Labels of %s not fetched after it was settled.", rows[0].job)
    finally:
        client.close()


@dataclass
class LabelsFetched:
    """What one request for a job's missing labels did."""

    fetched: list[int] = field(default_factory=list)  # row numbers
    # (row number, tracking number, why) of the rows UPS gave no label for.
    not_found: list[tuple[int, str, str]] = field(default_factory=list)
    unasked: list[int] = field(default_factory=list)  # row numbers left for another time
    why_unasked: str = ""

    def sentences(self) -> tuple[str, list[str]]:
        """Say what came ("2 labels fetched from UPS (rows 3, 7).") and, apart, what did not."""
        count = len(self.fetched)
        plural = "s" if count != 1 else ""
        numbers = ", ".join(map(str, self.fetched))
        done = f"{count} label{plural} fetched from UPS (row{plural} {numbers})." if count else ""
        problems = [
            f"Row {number} ({tracking}): no label: {why}"
            for number, tracking, why in self.not_found
        ]
        if self.unasked:
            rows = ", ".join(map(str, self.unasked[:10])) + (
                " ..." if len(self.unasked) > 10 else ""
            )
            one = len(self.unasked) == 1
            problems.append(
                f"{len(self.unasked)} row{'' if one else 's'} not fetched ({rows}): "
                f"{self.why_unasked}"
            )
        if not done and not problems:
            done = "Those rows got their labels meanwhile: nothing was left to fetch."
        return done, problems


def job_fetch_labels(
    *, job: Job, actor: Actor, budget_seconds: float | None = FETCH_BUDGET_SECONDS
) -> LabelsFetched:
    """Fetch the labels of ``job``'s shipped rows without one, for ``budget_seconds`` at most.

    Rows UPS had no label for at an earlier request are asked last, so each
    request reaches rows never asked. A row UPS has no label for is said and
    the next one asked; when UPS cannot be asked, or the time is up, the rows
    not asked are said.
    """
    tried = AuditEntry.objects.filter(row=OuterRef("pk"), action=LABEL_NOT_FOUND)
    missing = list(
        rows_without_label(job_id=job.pk)
        .annotate(tried=Exists(tried))
        .order_by("tried", "row_number")
    )
    if not missing:
        raise DomainError("nothing_to_fetch", f"Every shipped row of {job} has its label.")
    outcome = LabelsFetched()
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    client = label_client()
    try:
        for index, row in enumerate(missing):
            if deadline is not None and time.monotonic() > deadline:
                outcome.why_unasked = "time was up; fetch again to ask UPS for them."
            else:
                outcome.why_unasked = _fetch_one(row, actor, client, outcome)
            if outcome.why_unasked:
                outcome.unasked = sorted(later.row_number for later in missing[index:])
                break
    finally:
        client.close()
    return outcome


def _fetch_one(row: JobRow, actor: Actor, client: UpsClient, outcome: LabelsFetched) -> str:
    """Fetch one row's label into ``outcome``; return why the rest cannot be asked, if so."""
    try:
        if row_fetch_label(row=row, actor=actor, client=client):
            outcome.fetched.append(row.row_number)
    except LabelNotFound as error:
        _say_not_found(row, actor, str(error))
        outcome.not_found.append((row.row_number, row.tracking_number, str(error)))
    except UpsError as error:
        return f"UPS could not be asked ({error.message}). Try again later."
    except OSError as error:
        return f"a label could not be stored ({error.strerror or error}). Try again later."
    except DatabaseError as error:
        logger.exception("A fetched label of %s could not be recorded.", row)
        return f"a label could not be recorded ({type(error).__name__}). Try again later."
    return ""
