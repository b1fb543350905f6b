"""Settle rows whose ship outcome is unknown: look them up at UPS, or let a person decide."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs.actors import Actor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.approval import require_approve_permission
from jobs.services.audit import audit_record
from jobs.services.in_flight import SHIP_STARTED
from jobs.services.label_recovery import rows_fetch_labels_quietly
from jobs.services.transitions import row_transition
from jobs.services.writeback import job_write_back_stopped
from jobs.states import JobStatus, RowStatus, check_row_transition
from shipops.errors import DomainError
from ups.client import UpsClient, get_client
from ups.config import UpsConfig
from ups.errors import UpsError
from ups.types import TrackedPackage

logger = logging.getLogger(__name__)

# Reconciliation looks for the shipment this many days around the ship attempt.
PICKUP_WINDOW_DAYS = 3


def job_reconcile_unknown(*, job: Job, actor: Actor) -> list[JobRow]:
    """Look up each unknown row at UPS by its reference; return the rows still undecided."""
    client = get_client()
    undecided, found = [], []
    for row in JobRow.objects.filter(job=job, status=RowStatus.UNKNOWN).order_by("row_number"):
        package = _live_shipment(client, row)
        if package is None:
            undecided.append(row)
        else:
            _record_found(row, package, actor)
            found.append(row)
    # Their labels were lost with UPS's answers; every row is settled before any is asked for.
    rows_fetch_labels_quietly(rows=found, actor=actor)
    return undecided


def _live_shipment(client: UpsClient, row: JobRow) -> TrackedPackage | None:
    """Return the shipment UPS holds for the row's reference (not voided), if any."""
    around = row.updated_at.date()
    found = client.track_by_reference(
        row.reference,
        from_date=around - timedelta(days=PICKUP_WINDOW_DAYS),
        to_date=around + timedelta(days=PICKUP_WINDOW_DAYS),
    )
    live = [package for package in found if package.status.lower() != "voided"]
    return live[0] if live else None


def _record_found(row: JobRow, package: TrackedPackage, actor: Actor) -> None:
    """Record the shipment UPS holds under the row's reference (its label is fetched next)."""
    with transaction.atomic():
        row_transition(
            row=row,
            to_status=RowStatus.SHIPPED,
            actor=actor,
            action="row_reconciled",
            message=(
                f"Found at UPS by reference {row.reference}: tracking {package.tracking_number}."
            ),
            changes={
                "tracking_number": package.tracking_number,
                "shipment_id": package.shipment_id or package.tracking_number,
                # When UPS made it: the row may have waited hours or days for a resume.
                "shipped_at": row.shipped_at or package.first_seen_at or row.updated_at,
                "error_code": "",
                "error_message": "",
            },
        )
        Job.objects.filter(pk=row.job_id).update(shipped_count=F("shipped_count") + 1)


@dataclass(frozen=True)
class RowDecision:
    """What became of a person's decision on an unknown row, and the sentence that says so."""

    row: JobRow
    sentence: str


def row_decide_unknown(*, row: JobRow, actor: Actor, tracking_number: str = "") -> RowDecision:
    """A person settles an unknown row: shipped with ``tracking_number``, or not shipped.

    Needs the approve permission: "not shipped" lets the row ship again. So
    "not shipped" is taken only once UPS can no longer create the shipment of
    the row's last ship request (``UpsConfig.longest_ship_call_seconds`` after
    phase A) and only if a look-up by its reference finds no shipment: one
    found is recorded as shipped instead, and the sentence says so.
    A "shipped" row's tracking number goes to the source at once unless the job runs.
    """
    if isinstance(actor, User):
        require_approve_permission(actor)
    tracking_number = tracking_number.strip().upper()
    if tracking_number:
        return _decide_shipped(row, actor, tracking_number)
    check_row_transition(row_label=str(row), current=row.status, target=RowStatus.PENDING)
    _refuse_while_ups_may_answer(row)
    try:
        package = _live_shipment(get_client(), row)
    except UpsError as error:
        raise DomainError(
            "reconcile_failed",
            f"Row {row.row_number} was not marked not shipped: looking it up at UPS by its "
            f"reference {row.reference} failed ({error.message}). Try again later.",
        ) from error
    if package is not None:
        _record_found(row, package, actor)
        job_write_back_stopped(job=row.job, actor=actor)
        rows_fetch_labels_quietly(rows=[row], actor=actor)
        row.refresh_from_db()
        return RowDecision(
            row,
            f"Row {row.row_number} was not marked not shipped: UPS has a shipment for its "
            f"reference {row.reference} (tracking {package.tracking_number}), so it is "
            "recorded as shipped.",
        )
    with transaction.atomic():
        row_transition(
            row=row,
            to_status=RowStatus.PENDING,
            actor=actor,
            action="row_decided_not_shipped",
            message=(
                "Marked not shipped by a person; UPS had no shipment for reference "
                f"{row.reference}."
            ),
            changes={"error_code": "", "error_message": ""},
        )
    after = (
        "resume will ship it."
        if row.job.status in (JobStatus.INTERRUPTED, JobStatus.FAILED)
        else f"{row.job} will not ship it; a new job of the source will."
    )
    return RowDecision(
        row,
        f"Row {row.row_number} marked not shipped (UPS has no shipment for its reference "
        f"{row.reference}): {after}",
    )


def _decide_shipped(row: JobRow, actor: Actor, tracking_number: str) -> RowDecision:
    """Record the tracking number a person found, once checked against ShipOps and UPS.

    Refused when another row holds the number (one parcel, one row) or when
    UPS holds another shipment under the row's reference: recording this
    number would lose UPS's. When UPS cannot be asked, the person's number is
    taken, and the history says it was not checked.
    """
    if not (7 <= len(tracking_number) <= 35 and tracking_number.isalnum()):
        raise DomainError("bad_tracking", f"{tracking_number!r} is not a UPS tracking number.")
    check_row_transition(row_label=str(row), current=row.status, target=RowStatus.SHIPPED)
    holder = JobRow.objects.filter(tracking_number=tracking_number).exclude(pk=row.pk).first()
    if holder is not None:
        raise DomainError(
            "tracking_taken",
            f"{tracking_number} is already the tracking number of {holder} (key "
            f"{holder.source_key}): one parcel has one tracking number. Check the number "
            f"for row {row.row_number}.",
        )
    checked, package = "", None
    try:
        package = _live_shipment(get_client(), row)
    except UpsError as error:
        checked = f" UPS could not be asked to confirm it ({error.message})."
    else:
        if package is not None and package.tracking_number != tracking_number:
            raise DomainError(
                "tracking_mismatch",
                f"UPS has a shipment under row {row.row_number}'s reference {row.reference} "
                f"with the tracking number {package.tracking_number}, not {tracking_number}: "
                "mark it shipped with UPS's number (or check the one you found).",
                details={"ups_tracking_number": package.tracking_number},
            )
    with transaction.atomic():
        row_transition(
            row=row,
            to_status=RowStatus.SHIPPED,
            actor=actor,
            action="row_decided_shipped",
            message=f"Marked shipped by a person, tracking {tracking_number}.{checked}",
            changes={
                "tracking_number": tracking_number,
                "shipped_at": (package.first_seen_at if package else None) or row.updated_at,
                "error_code": "",
                "error_message": "",
            },
        )
        Job.objects.filter(pk=row.job_id).update(shipped_count=F("shipped_count") + 1)
    # Resume would write it back at the batch's end; a cancelled job never gets there.
    job_write_back_stopped(job=row.job, actor=actor)
    if package is not None:  # UPS has this number under the row's reference: fetch its label
        rows_fetch_labels_quietly(rows=[row], actor=actor)
    return RowDecision(row, f"Row {row.row_number} marked shipped ({tracking_number}).")


def _refuse_while_ups_may_answer(row: JobRow) -> None:
    """Refuse while UPS may still create the row's shipment from its last ship request.

    Counted from phase A (the ``ship_started`` entry): the request may leave
    later (a token fetched first, a connection that never opened tried again).
    """
    sent = (
        AuditEntry.objects.filter(row=row, action=SHIP_STARTED)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if sent is None:
        return
    wait = UpsConfig.from_settings().longest_ship_call_seconds()
    left = wait - (timezone.now() - sent).total_seconds()
    if left > 0:
        raise DomainError(
            "ups_may_answer",
            f"Row {row.row_number}'s ship request started {duration_text(wait - left)} ago, and "
            f"UPS may still create its shipment until {duration_text(wait)} after it started: "
            f"decide in {duration_text(left)}, once that can no longer happen.",
            details={"seconds": math.ceil(left)},
        )


def rows_awaiting_ups(job: Job) -> int:
    """Count the job's unsettled rows (in flight, unknown) UPS may still answer a request for.

    A stopped job's page keeps watching them: such an answer records the row
    as shipped, or keeps its tracking number in the history.
    """
    wait = UpsConfig.from_settings().longest_ship_call_seconds()
    return (
        AuditEntry.objects.filter(
            job=job,
            action=SHIP_STARTED,
            row__status__in=[RowStatus.IN_FLIGHT, RowStatus.UNKNOWN],
            created_at__gt=timezone.now() - timedelta(seconds=wait),
        )
        .values("row")
        .distinct()
        .count()
    )


def duration_text(seconds: float) -> str:
    """Say a duration as messages do: "1 min 15 s", "40 s"."""
    minutes, rest = divmod(math.ceil(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _keep_unrecorded_answer(row: JobRow, tracking_number: str, actor: Actor) -> None:
    """Keep, in the job's history, a tracking number UPS gave a row settled meanwhile."""
    logger.error(
        "Late ship answer for %s (tracking %s) not recorded: the row is %s.",
        row,
        tracking_number,
        row.status,
    )
    audit_record(
        actor=actor,
        action="late_answer_not_recorded",
        message=(
            f"UPS answered row {row.row_number}'s ship request late, with tracking "
            f"{tracking_number}, when the row was already {row.get_status_display().lower()}. "
            "If the row ships (or shipped) again, this parcel is a second one: void it at UPS."
        ),
        job=row.job,
        row=row,
        data={"tracking_number": tracking_number, "row_status": row.status},
    )


def row_record_late_shipment(*, row: JobRow, changes: dict[str, Any], actor: Actor) -> bool:
    """Record a ship answer that came after the worker lost its job; False if already settled.

    The row is still in flight, or unknown (cancel and recovery make in-flight
    rows unknown): either way UPS's answer is the truth about it. Unless the
    job runs again (its worker then writes back), the tracking number is
    written back to the source at once: no worker's buffer will.
    """
    with transaction.atomic():
        current = JobRow.objects.select_for_update().get(pk=row.pk)
        if current.status not in (RowStatus.IN_FLIGHT, RowStatus.UNKNOWN):
            if current.tracking_number != changes["tracking_number"]:
                _keep_unrecorded_answer(current, changes["tracking_number"], actor)
            else:  # found by reference meanwhile: the same parcel, already recorded
                logger.info("Late ship answer for %s: already recorded.", current)
            return False
        row_transition(
            row=current,
            to_status=RowStatus.SHIPPED,
            actor=actor,
            action="row_shipped_late",
            message=(
                f"Shipped: tracking number {changes['tracking_number']} (UPS answered after "
                "the job was cancelled or taken over)."
            ),
            changes=changes,
        )
        Job.objects.filter(pk=current.job_id).update(
            shipped_count=F("shipped_count") + 1,
            actual_cost_cents=F("actual_cost_cents") + (changes.get("actual_cost_cents") or 0),
        )
    job_write_back_stopped(job=current.job, actor=actor)
    return True
