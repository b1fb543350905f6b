"""Settle rows whose ship outcome is unknown: look them up at UPS, or let a person decide."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F

from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.services.approval import require_approve_permission
from jobs.services.transitions import row_transition
from jobs.services.writeback import job_write_back_stopped
from jobs.states import RowStatus
from shipops.errors import DomainError
from ups.client import get_client

logger = logging.getLogger(__name__)

# Reconciliation looks for the shipment this many days around the ship attempt.
PICKUP_WINDOW_DAYS = 3


def job_reconcile_unknown(*, job: Job, actor: Actor) -> list[JobRow]:
    """Look up each unknown row at UPS by its reference; return the rows still undecided."""
    client = get_client()
    undecided = []
    for row in JobRow.objects.filter(job=job, status=RowStatus.UNKNOWN).order_by("row_number"):
        around = row.updated_at.date()
        found = client.track_by_reference(
            row.reference,
            from_date=around - timedelta(days=PICKUP_WINDOW_DAYS),
            to_date=around + timedelta(days=PICKUP_WINDOW_DAYS),
        )
        live = [package for package in found if package.status.lower() != "voided"]
        if not live:
            undecided.append(row)
            continue
        package = live[0]
        with transaction.atomic():
            row_transition(
                row=row,
                to_status=RowStatus.SHIPPED,
                actor=actor,
                action="row_reconciled",
                message=(
                    f"Found at UPS by reference {row.reference}: "
                    f"tracking {package.tracking_number}."
                ),
                changes={
                    "tracking_number": package.tracking_number,
                    "shipment_id": package.shipment_id or package.tracking_number,
                    "shipped_at": row.shipped_at or row.updated_at,
                },
            )
            Job.objects.filter(pk=job.pk).update(shipped_count=F("shipped_count") + 1)
    return undecided


def row_decide_unknown(*, row: JobRow, actor: Actor, tracking_number: str = "") -> JobRow:
    """A person settles an unknown row: shipped with ``tracking_number``, or not shipped.

    Needs the approve permission: "not shipped" makes resume ship the row again.
    A "shipped" row's tracking number goes to the source at once unless the job runs.
    """
    if isinstance(actor, User):
        require_approve_permission(actor)
    tracking_number = tracking_number.strip().upper()
    if tracking_number:
        if not (7 <= len(tracking_number) <= 35 and tracking_number.isalnum()):
            raise DomainError("bad_tracking", f"{tracking_number!r} is not a UPS tracking number.")
        with transaction.atomic():
            row_transition(
                row=row,
                to_status=RowStatus.SHIPPED,
                actor=actor,
                action="row_decided_shipped",
                message=f"Marked shipped by a person, tracking {tracking_number}.",
                changes={"tracking_number": tracking_number, "shipped_at": row.updated_at},
            )
            Job.objects.filter(pk=row.job_id).update(shipped_count=F("shipped_count") + 1)
        # Resume would write it back at the batch's end; a cancelled job never gets there.
        job_write_back_stopped(job=row.job, actor=actor)
        return row
    with transaction.atomic():
        return row_transition(
            row=row,
            to_status=RowStatus.PENDING,
            actor=actor,
            action="row_decided_not_shipped",
            message="Marked not shipped by a person: it will be shipped on resume.",
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
            logger.warning(
                "Late ship answer for %s (tracking %s) not recorded: the row is %s.",
                current,
                changes["tracking_number"],
                current.status,
            )
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
