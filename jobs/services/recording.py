"""Phase B: record what UPS shipped on the row (tracking number, label, cost), fenced.

A shipment UPS made is never dropped: if the worker lost the job while UPS
answered, it is recorded late on the row all the same; if recording fails
otherwise, its tracking number is logged loudly and reconciliation by
reference (resume) brings it into the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from datasources.adapters.base import SourceAdapter, WriteBack
from jobs.actors import SystemActor
from jobs.models import Job, JobRow
from jobs.services.lease import Lease, LeaseLost, lease_renew
from jobs.services.reconcile import row_record_late_shipment
from jobs.services.transitions import row_transition, row_writeback_transition
from jobs.services.writeback import WritebackBuffer, writes_in_row_transaction
from jobs.shipping import label_file, shipped_changes
from jobs.states import RowStatus, WritebackStatus
from shipops.errors import DomainError
from ups.types import ShipResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shipped:
    """A row UPS shipped, with UPS's answer, until phase B records it."""

    row: JobRow
    result: ShipResult


class ShipmentRecorder:
    """Records one worker's shipped rows of one job, and writes them back to the source.

    A table in ShipOps's own database is written in the row's transaction;
    any other source through ``buffer``, whose flushes the executor calls.
    """

    def __init__(self, *, job: Job, lease: Lease, actor: SystemActor, adapter: SourceAdapter):
        self.job = job
        self.lease = lease
        self.actor = actor
        self.adapter = adapter
        self.in_row_transaction = writes_in_row_transaction(job.data_source)
        self.buffer = WritebackBuffer(
            adapter=adapter, key_column=job.key_column, lease=lease, actor=actor
        )

    def record(self, shipped: Shipped) -> None:
        """Phase B: the tracking number, label and cost; late if the job was taken meanwhile."""
        row, result = shipped.row, shipped.result
        shipped_at = timezone.now()
        label = label_file(
            reference=row.reference, label_format=result.label_format, content=result.label_bytes
        )
        label_problem = ""
        try:
            row.label.save(label.name or f"{row.reference}.label", label, save=False)
        except OSError as error:
            # Never let a full disk cost a tracking number: ship on, say what is missing.
            label_problem = f" The label could not be stored ({error.strerror})."
            row.label.name = ""
        try:
            self._commit(row, result, shipped_at, label_problem)
        except LeaseLost:
            self._record_late(shipped, shipped_at)
            raise
        except Exception:
            self.say_unrecorded(shipped)
            raise

    def _record_late(self, shipped: Shipped, shipped_at: datetime) -> None:
        # The job was cancelled or taken over while UPS answered. The shipment
        # exists, so it is recorded on the row all the same, if nobody settled it.
        try:
            row_record_late_shipment(
                row=shipped.row,
                changes=shipped_changes(shipped.result, shipped_at, shipped.row.label.name),
                actor=self.actor,
            )
        except Exception:
            self.say_unrecorded(shipped)

    def say_unrecorded(self, shipped: Shipped) -> None:
        """Log, from an ``except`` block, a shipment UPS made that phase B did not record.

        Loudly: reconciliation by reference (resume) then brings its tracking
        number into the database.
        """
        logger.exception(
            "Job %s row %s was shipped (tracking %s, reference %s) but not recorded.",
            self.job.pk,
            shipped.row.row_number,
            shipped.result.tracking_number,
            shipped.row.reference,
        )

    def _commit(
        self, row: JobRow, result: ShipResult, shipped_at: datetime, label_problem: str
    ) -> None:
        with transaction.atomic():
            # The fence check also adds the row to the job's counters: one UPDATE.
            lease_renew(
                self.lease,
                shipped_count=F("shipped_count") + 1,
                actual_cost_cents=F("actual_cost_cents") + result.total_cents,
            )
            row_transition(
                row=row,
                to_status=RowStatus.SHIPPED,
                actor=self.actor,
                action="row_shipped",
                message=f"Shipped: tracking number {result.tracking_number}.{label_problem}",
                changes=shipped_changes(result, shipped_at, row.label.name),
                data={"tracking_number": result.tracking_number, "cost_cents": result.total_cents},
            )
            update = WriteBack(
                key=row.source_key,
                tracking_number=result.tracking_number,
                shipped_at=shipped_at,
                checksum=row.source_checksum,
            )
            if self.in_row_transaction:
                self._write_back_in_transaction(row, update)
        if not self.in_row_transaction:
            self.buffer.add(row.pk, update)

    def _write_back_in_transaction(self, row: JobRow, update: WriteBack) -> None:
        # Same database: the source row's UPDATE commits with the row's state. It runs
        # in a savepoint, so a failing UPDATE is recorded without undoing the shipment.
        try:
            self.adapter.write_back([update])
        except (DomainError, DatabaseError) as error:
            problem = getattr(error, "message", None) or str(error)
            row_writeback_transition(
                row=row,
                to_status=WritebackStatus.FAILED,
                actor=self.actor,
                message=f"Could not write the tracking number back to the source: {problem}",
                error=problem,
            )
            return
        row_writeback_transition(
            row=row,
            to_status=WritebackStatus.WRITTEN,
            actor=self.actor,
            message="Tracking number and ship time written back to the source table.",
        )
