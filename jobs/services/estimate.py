"""A job's estimate (cost, rows with warnings) covers the rows it will ship, and no others.

The preview sums it. Rows left out later (excluded by the operator, skipped
at approval because another job shipped them) leave the sum with them, so
the cost an approver confirms is what the batch can buy. A restart ships
rows that were previewed in the job it replaces: rows unchanged since keep
that preview's cost and warnings.
"""

from __future__ import annotations

from jobs.actors import Actor
from jobs.models import Job, JobRow
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

    A row takes them only if ``previewed`` holds the same order with the same
    content (key and checksum): a row changed since has no estimate, as an
    unpreviewed row has none.
    """
    found = {
        (key, checksum): (cost, warnings)
        for key, checksum, cost, warnings in JobRow.objects.filter(
            job=previewed, estimated_cost_cents__isnull=False
        ).values_list("source_key", "source_checksum", "estimated_cost_cents", "warnings")
    }
    rows = JobRow.objects.filter(job=job, status=RowStatus.PENDING, is_valid=True)
    copied = []
    for row in rows.only("pk", "source_key", "source_checksum").iterator(COPY_BATCH):
        if (preview := found.get((row.source_key, row.source_checksum))) is not None:
            row.estimated_cost_cents, row.warnings = preview
            copied.append(row)
    JobRow.objects.bulk_update(copied, ["estimated_cost_cents", "warnings"], batch_size=COPY_BATCH)
    Job.objects.filter(pk=job.pk).update(previewed_count=len(copied))
    job_estimate_refresh(job)
    job.refresh_from_db()
    unrated = JobRow.objects.filter(job=job, status=RowStatus.PENDING).count() - len(copied)
    audit_record(
        actor=actor,
        action="preview_copied",
        job=job,
        message=(
            f"Took the preview of {previewed} for {len(copied)} unchanged rows: estimated "
            f"{format_cents(job.estimated_cost_cents, job.currency)}, {job.warning_count} with "
            f"warnings."
            + (
                f" {unrated} rows have no estimate (changed since, or never rated)."
                if unrated
                else ""
            )
        ),
        data={"previewed": previewed.pk, "rows": len(copied), "unrated": unrated},
    )
    return len(copied)
