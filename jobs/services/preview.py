"""Preview: rate every row and check its address, a bounded number of rows at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from jobs.actors import Actor, SystemActor, system_actor
from jobs.models import Job, JobRow
from jobs.queue import enqueue_preview
from jobs.services.estimate import RATED_FROM
from jobs.services.lease import (
    Lease,
    LeaseLost,
    lease_claim,
    lease_hand_over,
    lease_renew,
)
from jobs.services.recovery import job_interrupt_on_error
from jobs.services.restart_holds import refuse_while_restarting
from jobs.services.transitions import job_transition, status_refusal
from jobs.shipping import ship_from_for, ship_from_record, shipment_request
from jobs.states import JobStatus, RowStatus, job_statuses_leading_to
from jobs.summaries import batch_totals, rated_so_far
from shipops.errors import DomainError
from shipops.money import format_cents
from shipops.words import counted
from ups.client import UpsClient, get_client
from ups.errors import UpsAuthError, UpsDefinitiveError, UpsError
from ups.types import Address, AddressValidation

logger = logging.getLogger(__name__)

CHUNK_ROWS = 200
XAV_COUNTRIES = {"US", "PR"}


@dataclass
class RowPreview:
    """What the preview learned about one row."""

    row_id: int
    cost_cents: int | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, str] | None = None


PREVIEWABLE = job_statuses_leading_to(JobStatus.PREVIEWING)


def job_preview_start(*, job: Job, actor: Actor, in_background: bool = True) -> int:
    """Start (or restart) the preview of ``job``; return the token its runner must present.

    With ``in_background`` a django-q2 task runs it; otherwise the caller runs
    ``job_preview_run`` itself (the management commands do, in the foreground).
    """
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        refuse_while_restarting(locked)
        only = "only a draft or previewed job can be previewed."
        if refusal := status_refusal(
            locked, PREVIEWABLE, code="illegal_transition", only=only, to=JobStatus.PREVIEWING
        ):
            raise refusal
        # A row rated again has no estimate until UPS answers: the batch's is not known yet.
        JobRow.objects.filter(job=locked, status=RowStatus.PENDING, is_valid=True).update(
            estimated_cost_cents=None, warnings=[]
        )
        job_transition(
            job=locked,
            to_status=JobStatus.PREVIEWING,
            actor=actor,
            action="preview_started",
            message="Preview started.",
            changes={
                "previewed_count": 0,
                "estimated_cost_cents": 0,
                "warning_count": 0,
                "last_error_code": "",
                "last_error_message": "",
            },
        )
        token = lease_hand_over(job=locked, actor=actor)
        if in_background:
            enqueue_preview(locked.pk, token, actor=actor)
    job.refresh_from_db()
    return token


def job_preview_run(*, job_id: int, token: int) -> None:
    """Rate and validate every valid pending row of a job; the body of the preview task."""
    actor = system_actor("preview worker")
    claimed = lease_claim(
        job_id=job_id, token=token, actor=actor, statuses=frozenset({JobStatus.PREVIEWING})
    )
    if claimed is None:
        logger.info("Preview of job %s is held by another worker; this task exits.", job_id)
        return
    job, lease = claimed
    try:
        ship_from = _preview_rows(job, lease)
    except LeaseLost:
        logger.warning("Preview of job %s lost its lease; stopped without writing.", job_id)
        return
    except UpsError as error:
        _preview_abort(job, actor, error)
        return
    except DomainError as error:
        # A source or data-source problem, said in its own words: back to draft with them.
        logger.warning("Preview of job %s stopped: %s", job_id, error.message)
        job_interrupt_on_error(lease=lease, actor=actor, error=error)
        return
    except Exception as error:
        _preview_stopped_on(error, lease, actor)
        raise
    except KeyboardInterrupt:
        # Ctrl-C in a command (or a cluster stopping): back to draft at once, not previewing
        # until the lease lapses, so that it can be previewed again right away.
        stopped = DomainError(
            "preview_stopped", "The preview was stopped (Ctrl-C) before it ended."
        )
        job_interrupt_on_error(lease=lease, actor=actor, error=stopped)
        raise
    try:
        _preview_finish(job, actor, lease, ship_from)
    except LeaseLost:
        logger.warning("Preview of job %s lost its lease at the end; left as it is.", job_id)
    except Exception as error:
        _preview_stopped_on(error, lease, actor)
        raise


def _preview_stopped_on(error: Exception, lease: Lease, actor: SystemActor) -> None:
    """Log an unexpected error, then put the job back in draft at once, naming it.

    A bug or a database failure: the operator sees it now, not when the lease lapses.
    """
    logger.exception("Job %s: the preview stopped on an unexpected error.", lease.job_id)
    job_interrupt_on_error(lease=lease, actor=actor, error=error)


def _preview_rows(job: Job, lease: Lease) -> Address:
    """Rate and validate the rows; return the ship-from address they were rated from."""
    client = get_client()
    client.authenticate()  # one token fetch here, not one per thread
    ship_from = ship_from_for(job.data_source)
    concurrency = settings.SHIPOPS_PREVIEW_CONCURRENCY
    # One pool rates, one validates: each row's two calls run side by side,
    # ``concurrency`` rows at a time.
    with (
        ThreadPoolExecutor(concurrency, thread_name_prefix="rate") as rate_pool,
        ThreadPoolExecutor(concurrency, thread_name_prefix="xav") as xav_pool,
    ):
        # The next chunk's calls are queued before this chunk is saved, so the
        # pools never stand idle while the database writes.
        submitted: list[tuple[int, Future[Any], Future[AddressValidation] | None]] = []
        try:
            for chunk in _chunks(job):
                queued = []
                for row in chunk:
                    request = shipment_request(row=row, ship_from=ship_from)
                    validated = _validate_later(xav_pool, client, request.ship_to)
                    queued.append((row.pk, rate_pool.submit(client.rate, request), validated))
                if submitted:
                    _save_chunk(lease, [_row_preview(*calls) for calls in submitted])
                submitted = queued
            if submitted:
                _save_chunk(lease, [_row_preview(*calls) for calls in submitted])
        except BaseException:
            # The preview stops here: the calls queued behind the failed one are not sent.
            for pool in (rate_pool, xav_pool):
                pool.shutdown(wait=False, cancel_futures=True)
            raise
    return ship_from


def _chunks(job: Job) -> Iterator[list[JobRow]]:
    rows = (
        JobRow.objects.filter(job=job, status=RowStatus.PENDING, is_valid=True)
        .only("pk", "row_number", "reference", "shipment")
        .order_by("pk")
    )
    last_pk = 0
    while chunk := list(rows.filter(pk__gt=last_pk)[:CHUNK_ROWS]):
        yield chunk
        last_pk = chunk[-1].pk


def _validate_later(
    pool: ThreadPoolExecutor, client: UpsClient, address: Address
) -> Future[AddressValidation] | None:
    if address.country not in XAV_COUNTRIES:
        return None
    return pool.submit(client.validate_address, address)


def _row_preview(
    row_id: int, rated: Future[Any], validated: Future[AddressValidation] | None
) -> RowPreview:
    preview = RowPreview(row_id=row_id)
    try:
        preview.cost_cents = rated.result().total_cents
    except UpsDefinitiveError as error:
        preview.error = {
            "column": "",
            "field": "rate",
            "message": f"UPS could not rate this shipment: {error.message}",
        }
    if validated is not None:
        try:
            preview.warnings = address_warnings(validated.result())
        except UpsDefinitiveError as error:
            preview.warnings = [
                {
                    "code": "address_unchecked",
                    "message": f"UPS could not check the address: {error.message}",
                }
            ]
    return preview


def address_warnings(result: AddressValidation) -> list[dict[str, Any]]:
    """Return the warnings an operator should see for an address validation result."""
    warnings: list[dict[str, Any]] = []
    if result.indicator == "ambiguous":
        candidates = [
            f"{', '.join(c.address_lines)}, {c.city}, {c.state} {c.postal_code}"
            for c in result.candidates[:3]
        ]
        warnings.append(
            {
                "code": "address_ambiguous",
                "message": "UPS found more than one matching address.",
                "candidates": candidates,
            }
        )
    elif result.indicator == "no_candidates":
        warnings.append(
            {"code": "address_not_found", "message": "UPS could not find this address."}
        )
    if result.classification == "residential":
        warnings.append(
            {"code": "residential", "message": "Residential address: UPS adds a surcharge."}
        )
    return warnings


def _save_chunk(lease: Lease, results: list[RowPreview]) -> None:
    rows = JobRow.objects.in_bulk([result.row_id for result in results])
    for result in results:
        row = rows[result.row_id]
        row.estimated_cost_cents = result.cost_cents
        row.warnings = result.warnings
        row.errors = [result.error] if result.error else []
        row.is_valid = result.error is None
    with transaction.atomic():
        lease_renew(lease)
        JobRow.objects.bulk_update(
            rows.values(), ["estimated_cost_cents", "warnings", "errors", "is_valid"]
        )
        Job.objects.filter(pk=lease.job_id).update(
            previewed_count=F("previewed_count") + len(results)
        )


def _preview_finish(job: Job, actor: SystemActor, lease: Lease, ship_from: Address) -> None:
    with transaction.atomic():
        lease_renew(lease)
        totals = batch_totals(job.pk)
        job_transition(
            job=job,
            to_status=JobStatus.PREVIEWED,
            actor=actor,
            action="preview_finished",
            message=(
                f"Preview finished: {counted(totals['count'], 'row')}, estimated "
                f"{format_cents(totals['cost'], job.currency)}, "
                f"{totals['warned']} with warnings, {totals['invalid']} with errors."
            ),
            changes={
                "estimated_cost_cents": totals["cost"],
                "previewed_count": totals["rated"],
                "warning_count": totals["warned"],
                "invalid_count": totals["invalid"],
                "lease_owner": "",
                "lease_expires_at": None,
            },
            # A restart takes these rates only while the rows ship from the same place.
            data={**totals, RATED_FROM: ship_from_record(ship_from)},
        )


def _preview_abort(job: Job, actor: SystemActor, error: UpsError) -> None:
    kind = (
        "UPS refused our credentials" if isinstance(error, UpsAuthError) else "UPS did not answer"
    )
    job_transition(
        job=job,
        to_status=JobStatus.DRAFT,
        actor=actor,
        action="preview_failed",
        message=f"Preview stopped: {kind}: {error.message} Preview again when UPS is back.",
        changes={
            **rated_so_far(job),
            "last_error_code": error.code,
            "last_error_message": error.message,
            "lease_owner": "",
            "lease_expires_at": None,
        },
    )
