"""A job's estimate (cost, rows with warnings) covers the rows it will ship, and no others.

The preview sums it. Rows left out later (excluded by the operator, skipped
at approval because another job shipped them) leave the sum with them, so
the cost an approver confirms is what the batch can buy. A restart ships
rows that were previewed in the job it replaces: rows unchanged since keep
that preview's cost and warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F

from datasources.models import DataSource
from jobs.actors import Actor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.audit import audit_record
from jobs.shipping import ship_from_for, ship_from_record
from jobs.states import RowStatus
from jobs.summaries import rated_so_far
from shipops.errors import DomainError
from shipops.money import format_cents
from shipops.words import counted

COPY_BATCH = 500  # rows updated per statement
PREVIEW_STARTED, PREVIEW_FINISHED, PREVIEW_COPIED = (
    "preview_started",
    "preview_finished",
    "preview_copied",
)
PREVIEW_ACTIONS = (PREVIEW_STARTED, PREVIEW_FINISHED, PREVIEW_COPIED)
RATED_FROM = "ship_from"  # audit data: the ship-from address a preview's rates were asked for


@dataclass(frozen=True)
class Rated:
    """When UPS was asked for a preview's rates, and from which ship-from address.

    ``ship_from`` is None for previews older than its recording: then any save
    of the data source since counts as a change, as it did before.
    """

    since: datetime
    ship_from: dict[str, Any] | None


def job_rows_left_out(job: Job, count: int) -> None:
    """Count ``count`` more skipped rows in ``job``, and take them out of its estimate."""
    Job.objects.filter(pk=job.pk).update(skipped_count=F("skipped_count") + count)
    job_estimate_refresh(job)


def job_estimate_refresh(job: Job) -> None:
    """Sum the estimate again over the rows still in ``job``'s batch, and count them."""
    Job.objects.filter(pk=job.pk).update(**rated_so_far(job))


def job_copy_preview(*, job: Job, previewed: Job, actor: Actor) -> int:
    """Give ``job``'s rows the cost and warnings ``previewed`` found for them; return how many.

    A row takes them only if ``previewed`` rated the same order (key), read
    from the same cells (checksum) into the same shipment (so with the same
    default service, packaging and weight), and only if it ships from the
    address that preview was rated from. Any other row has no estimate, as an
    unpreviewed row has none. Audited; a transaction of its own.
    """
    rated = _rated(previewed)
    changed = _what_changed(rated, previewed, job.data_source) if rated is not None else ""
    found = {} if rated is None or changed else _estimates(previewed)
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
            action=PREVIEW_COPIED,
            job=job,
            message=_copy_message(job, previewed, len(copied), unrated, rated, changed=changed),
            data={
                "previewed": previewed.pk,
                "rows": len(copied),
                "unrated": unrated,
                "rated_since": rated.since.isoformat() if rated and copied else None,
                RATED_FROM: rated.ship_from if rated and copied else None,
            },
        )
    return len(copied)


def _rated(job: Job) -> Rated | None:
    """When and from where UPS was asked for the rates ``job``'s rows hold; None if they hold none.

    That is the start of its last preview, if that preview finished, or for a
    job that took another's preview (a restart's), when that one was rated.
    """
    entries = AuditEntry.objects.filter(job=job, action__in=PREVIEW_ACTIONS)
    newest_first = entries.order_by("-created_at", "-pk").values_list(
        "action", "created_at", "data"
    )
    finished: dict[str, Any] | None = None  # the finished preview's audit data
    for action, created_at, data in newest_first.iterator():
        if action == PREVIEW_COPIED and finished is None:
            since = data.get("rated_since")
            return Rated(datetime.fromisoformat(since), data.get(RATED_FROM)) if since else None
        if action == PREVIEW_FINISHED:
            finished = data
        elif action == PREVIEW_STARTED:
            # Unfinished, its rates are partial.
            return Rated(created_at, finished.get(RATED_FROM)) if finished is not None else None
    return None


def _what_changed(rated: Rated, previewed: Job, source: DataSource) -> str:
    """Why ``rated`` no longer holds for ``source``'s rows (a sentence), or "" if it does."""
    if rated.ship_from is None:
        if source.updated_at > rated.since:
            return f"The data source's settings changed after {previewed} was previewed."
        return ""
    try:
        now = ship_from_record(ship_from_for(source))
    except DomainError as error:
        return error.message  # an override that cannot be shipped from
    if now != rated.ship_from:
        return (
            f"The ship-from address (the data source's override, or the warehouse's "
            f"UPS_SHIP_FROM settings) is not the one {previewed} was rated from."
        )
    return ""


def _estimates(job: Job) -> dict[tuple[str, str], tuple[Any, int | None, list[Any]]]:
    rated = JobRow.objects.filter(job=job, estimated_cost_cents__isnull=False)
    return {
        (key, checksum): (shipment, cost, warnings)
        for key, checksum, shipment, cost, warnings in rated.values_list(
            "source_key", "source_checksum", "shipment", "estimated_cost_cents", "warnings"
        )
    }


def _copy_message(
    job: Job, previewed: Job, copied: int, unrated: int, rated: Rated | None, *, changed: str
) -> str:
    if rated is None:
        return (
            f"{previewed} holds no finished preview (an auto-mode job is never previewed): "
            f"{job} has no estimated cost."
        )
    if changed:
        return f"{changed} {job} takes none of its estimates: it has no estimated cost."
    said = (
        f"Took the preview of {previewed} for {counted(copied, 'unchanged row')}: estimated "
        f"{format_cents(job.estimated_cost_cents, job.currency)}, {job.warning_count} with "
        "warnings."
    )
    if unrated:
        said += (
            f" No estimate for {counted(unrated, 'row')}: changed since that preview, or not rated "
            "there."
        )
    return said
