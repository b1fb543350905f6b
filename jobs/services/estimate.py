"""A job's estimate (cost, rows with warnings) covers the rows it will ship, and no others.

The preview sums it. Rows left out later (excluded by the operator, skipped
at approval because another job shipped them) leave the sum with them, so
the cost an approver confirms is what the batch can buy. A restart ships
rows that were previewed in the job it replaces: rows unchanged since keep
that preview's cost and warnings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max

from jobs.actors import Actor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.audit import audit_record
from jobs.states import RowStatus
from jobs.summaries import batch_totals
from shipops.money import format_cents

COPY_BATCH = 500  # rows updated per statement


def job_estimate_refresh(job: Job) -> None:
    """Sum the estimate again over the rows still in ``job``'s batch."""
    totals = batch_totals(job.pk)
    Job.objects.filter(pk=job.pk).update(
        estimated_cost_cents=totals["cost"], warning_count=totals["warned"]
    )


def job_copy_preview(*, job: Job, previewed: Job, actor: Actor) -> int:
    """Give ``job``'s rows the cost and warnings ``previewed`` found for them; return how many.

    A row takes them only if ``previewed`` rated the same order (key), read
    from the same cells (checksum) into the same shipment, and only if the
    data source's settings (default service, weight, ship-from...) have not
    changed since that preview. Any other row has no estimate, as an
    unpreviewed row has none. Audited; a transaction of its own.
    """
    since = _previewed_at(previewed)
    changed = since is not None and job.data_source.updated_at > since
    found = {} if since is None or changed else _estimates(previewed)
    rows = JobRow.objects.filter(job=job, status=RowStatus.PENDING, is_valid=True)
    copied, unrated = [], 0
    for row in rows.only("pk", "source_key", "source_checksum", "shipment").iterator(COPY_BATCH):
        preview = found.get((row.source_key, row.source_checksum))
        if preview is None or preview[0] != row.shipment:
            unrated += 1
            continue
        row.estimated_cost_cents, row.warnings = preview[1:]
        copied.append(row)
    with transaction.atomic():
        JobRow.objects.bulk_update(
            copied, ["estimated_cost_cents", "warnings"], batch_size=COPY_BATCH
        )
        Job.objects.filter(pk=job.pk).update(previewed_count=len(copied))
        job_estimate_refresh(job)
        job.refresh_from_db()
        audit_record(
            actor=actor,
            action="preview_copied",
            job=job,
            message=_copy_message(job, previewed, len(copied), unrated, since, changed=changed),
            data={"previewed": previewed.pk, "rows": len(copied), "unrated": unrated},
        )
    return len(copied)


def _previewed_at(job: Job) -> datetime | None:
    """When ``job``'s last preview finished, or None if it was never previewed."""
    finished = AuditEntry.objects.filter(job=job, action="preview_finished")
    return finished.aggregate(last=Max("created_at"))["last"]


def _estimates(job: Job) -> dict[tuple[str, str], tuple[Any, int | None, list[Any]]]:
    rated = JobRow.objects.filter(job=job, estimated_cost_cents__isnull=False)
    return {
        (key, checksum): (shipment, cost, warnings)
        for key, checksum, shipment, cost, warnings in rated.values_list(
            "source_key", "source_checksum", "shipment", "estimated_cost_cents", "warnings"
        )
    }


def _copy_message(
    job: Job, previewed: Job, copied: int, unrated: int, since: datetime | None, *, changed: bool
) -> str:
    if since is None:
        return f"{previewed} was never previewed (auto mode): {job} has no estimated cost."
    if changed:
        return (
            f"The data source's settings changed after {previewed} was previewed, so its "
            f"estimates may be wrong now: {job} has no estimated cost."
        )
    said = (
        f"Took the preview of {previewed} for {copied} unchanged rows: estimated "
        f"{format_cents(job.estimated_cost_cents, job.currency)}, {job.warning_count} with "
        "warnings."
    )
    if unrated:
        said += (
            f" No estimate for {unrated} row(s): changed since that preview, or not rated there."
        )
    return said
