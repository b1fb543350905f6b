"""Fetch again, from UPS's Label Recovery, the labels of shipped rows that have none.

A row ships without a label in ShipOps when UPS's ship answer was lost: resume
found the shipment by its reference, or a person marked the row shipped. The
parcel still needs its label, so ShipOps asks UPS for it right after such a
row is settled, and a person can ask again (job page, API, ``recover_jobs
--fetch-labels``) for every row of a job still without one. Asking UPS for a
label changes nothing at UPS; storing it is audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.services.audit import audit_record
from jobs.shipping import label_file
from jobs.states import RowStatus
from shipops.errors import DomainError
from ups.client import UpsClient, get_client
from ups.errors import UpsDefinitiveError, UpsError

logger = logging.getLogger(__name__)

# The format the executor ships with (UpsClient.prepare_ship's default).
LABEL_FORMAT = "GIF"
LABEL_FETCHED = "label_fetched"
# Rows asked per request from a page or the API: a web request must end in time.
FETCH_AT_ONCE = 25


def rows_without_label(job: Job) -> QuerySet[JobRow]:
    """The job's shipped rows that have no label, in row order."""
    return JobRow.objects.filter(job=job, status=RowStatus.SHIPPED, label="").order_by("row_number")


def row_fetch_label(*, row: JobRow, actor: Actor, client: UpsClient | None = None) -> bool:
    """Fetch ``row``'s label from UPS and keep it; False if the row got one meanwhile.

    Raises UpsError when UPS cannot be asked, or has no label for the row's
    tracking number (a number a person typed that UPS does not know, say).
    """
    recovered = (client or get_client()).recover_label(
        row.tracking_number, label_format=LABEL_FORMAT
    )
    stored = label_file(
        reference=row.reference,
        label_format=recovered.label_format,
        content=recovered.label_bytes,
    )
    row.label.save(stored.name or f"{row.reference}.label", stored, save=False)
    with transaction.atomic():
        kept = JobRow.objects.filter(
            pk=row.pk, status=RowStatus.SHIPPED, label="", tracking_number=row.tracking_number
        ).update(label=row.label.name, label_format=recovered.label_format)
        if kept:
            audit_record(
                actor=actor,
                action=LABEL_FETCHED,
                message=f"Label of tracking {row.tracking_number} fetched from UPS.",
                row=row,
                data={"tracking_number": row.tracking_number, "format": recovered.label_format},
            )
    if kept:
        row.label_format = recovered.label_format
    else:  # another fetch stored one first, or the row was voided: keep that state
        row.label.delete(save=False)
    return bool(kept)


def row_fetch_label_quietly(*, row: JobRow, actor: Actor) -> None:
    """Fetch the label of a row just settled as shipped; a failure only leaves it without one.

    The job page then lists the row as shipped without a label, with a button
    to ask again.
    """
    try:
        row_fetch_label(row=row, actor=actor)
    except (UpsError, OSError) as error:
        logger.warning(
            "The label of %s (tracking %s) was not fetched: %s", row, row.tracking_number, error
        )


@dataclass
class LabelsFetched:
    """What one request for a job's missing labels did."""

    fetched: list[int] = field(default_factory=list)  # row numbers
    # (row number, tracking number, why): UPS had no label, or could not be asked.
    not_fetched: list[tuple[int, str, str]] = field(default_factory=list)
    left: int = 0  # rows without a label not asked this time (over the limit)

    def fetched_sentence(self) -> str:
        """Say which rows got their label ("2 labels fetched from UPS (rows 3, 7).")."""
        count = len(self.fetched)
        plural = "s" if count != 1 else ""
        numbers = ", ".join(map(str, self.fetched))
        return f"{count} label{plural} fetched from UPS (row{plural} {numbers})."

    def problems(self) -> list[str]:
        """Say, row by row, why a label was not fetched, then how many are left to ask."""
        said = [
            f"Row {number} ({tracking}): no label: {why}"
            for number, tracking, why in self.not_fetched
        ]
        if self.left:
            rows = "1 more row has" if self.left == 1 else f"{self.left} more rows have"
            said.append(f"{rows} no label: fetch again to ask UPS for them.")
        return said


def job_fetch_labels(*, job: Job, actor: Actor, limit: int | None = FETCH_AT_ONCE) -> LabelsFetched:
    """Fetch the label of the first ``limit`` (None: every) shipped rows of ``job`` without one.

    A row UPS has no label for is reported and the others are still asked;
    when UPS cannot be asked at all, the rows not yet asked are reported as such.
    """
    without = rows_without_label(job)
    missing = list(without if limit is None else without[:limit])
    if not missing:
        raise DomainError("nothing_to_fetch", f"Every shipped row of {job} has its label.")
    outcome = LabelsFetched(left=0 if limit is None else max(without.count() - limit, 0))
    client = get_client()
    for index, row in enumerate(missing):
        try:
            if row_fetch_label(row=row, actor=actor, client=client):
                outcome.fetched.append(row.row_number)
        except UpsDefinitiveError as error:
            outcome.not_fetched.append((row.row_number, row.tracking_number, error.message))
        except OSError as error:
            why = f"it could not be stored ({error.strerror or error})."
            outcome.not_fetched.append((row.row_number, row.tracking_number, why))
        except UpsError as error:
            why = f"UPS could not be asked ({error.message}). Try again later."
            outcome.not_fetched += [(r.row_number, r.tracking_number, why) for r in missing[index:]]
            break
    return outcome
