"""Property test: random operator actions and UPS faults never break the batch's promises.

Each example makes a small CSV job and runs a random sequence of what people
and workers do, through the real services, on the real database and the
sandbox over HTTP: preview, approve, ship one slice, a worker that dies after
a row (its lease lapses), cancel, resume (settling unknown rows the way a
person would, from the sandbox's ledger), restart (voiding first or
confirming duplicates), and sandbox faults armed before the next UPS call.
After every step, for every job made so far:

- each status change of jobs, rows and write-backs is an audited step of the
  jobs.states tables (``audit_trail_problems`` replays the trail);
- every shipped row's tracking number is the sandbox's for its reference;
- no reference has two live shipments, and every live shipment belongs to a
  shipped row with that number or to a row still marked unknown: no tracking
  number is lost;
- the job's shipped counter and cost agree with its rows.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasources.models import DataSource
from jobs.actors import system_actor
from jobs.models import Job, JobRow
from jobs.services.approval import job_approve
from jobs.services.audit import audit_trail_problems
from jobs.services.cancel import job_cancel
from jobs.services.execution import job_execute
from jobs.services.preview import job_preview_run, job_preview_start
from jobs.services.reconcile import row_decide_unknown
from jobs.services.recovery import jobs_mark_lapsed
from jobs.services.restart import job_restart
from jobs.services.resume import job_resume
from jobs.states import JobStatus, RowStatus
from shipops.errors import DomainError
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import SimulatedCrash
from ups.auth import clear_cached_tokens

FAULTS: list[dict[str, Any]] = [
    {"kind": "http_500", "endpoint": "ship"},
    {"kind": "http_503", "endpoint": "ship"},
    {"kind": "http_429", "endpoint": "ship", "retry_after": 0},
    {"kind": "timeout_after_ship", "endpoint": "ship", "hold_seconds": 1.5},
    {"kind": "timeout", "endpoint": "ship", "hold_seconds": 1.5},
    {"kind": "drop_connection", "endpoint": "ship", "after_work": True},
    {"kind": "drop_connection", "endpoint": "ship"},
    {"kind": "expired_token", "endpoint": "ship"},
    {"kind": "malformed", "endpoint": "ship", "variant": "truncated"},
    {"kind": "http_503", "endpoint": "track", "count": 4},
    {"kind": "reject_address", "endpoint": "ship", "postal_codes": ["30303"]},
]
ACTIONS = ["preview", "approve", "ship", "ship", "crash", "cancel", "resume", "restart", "fault"]
sources = itertools.count(1)


class Operator:
    """Carries out one action on the newest job, as a person or a worker would."""

    def __init__(self, user: User, sandbox: SandboxController, job: Job) -> None:
        self.user = user
        self.sandbox = sandbox
        self.jobs = [job]

    @property
    def job(self) -> Job:
        job = self.jobs[-1]
        job.refresh_from_db()
        return job

    def act(self, action: str, choice: int) -> None:
        # Refusing an action that does not fit the job's state is part of the point.
        with contextlib.suppress(DomainError):
            getattr(self, action)(choice)

    def preview(self, choice: int) -> None:
        token = job_preview_start(job=self.job, actor=self.user, in_background=False)
        job_preview_run(job_id=self.job.pk, token=token)

    def approve(self, choice: int) -> None:
        job_approve(job=self.job, acting_user=self.user, in_background=False)

    def ship(self, choice: int) -> None:
        # One slice of at least one row, as one queued task would; the hand-over
        # (or the approval, or resume) left the token the next task presents.
        job = self.job
        job_execute(job_id=job.pk, token=job.fencing_token, slice_seconds=choice % 2 * math.inf)

    def crash(self, choice: int) -> None:
        """A worker dies after a row; its lease lapses; recovery marks the job."""

        def die(row: JobRow) -> None:
            raise SimulatedCrash

        job = self.job
        with contextlib.suppress(SimulatedCrash):
            job_execute(job_id=job.pk, token=job.fencing_token, slice_seconds=math.inf, on_row=die)
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now())
        jobs_mark_lapsed(actor=system_actor("recovery"))

    def cancel(self, choice: int) -> None:
        job_cancel(job=self.job, actor=self.user, reason="Property test.")

    def resume(self, choice: int) -> None:
        try:
            job_resume(job=self.job, actor=self.user, in_background=False)
        except DomainError as error:
            if error.code != "needs_decision":
                raise
            for row in JobRow.objects.filter(pk__in=error.details["rows"]):
                self.decide(row)

    def decide(self, row: JobRow) -> None:
        """Settle an unknown row as a person would: from UPS's own record of it."""
        live = [s for s in self.sandbox.ledger(reference=row.reference) if not s["voided"]]
        tracking = live[0]["tracking_number"] if live else ""
        row_decide_unknown(row=row, actor=self.user, tracking_number=tracking)

    def restart(self, choice: int) -> None:
        void_first = choice % 2 == 0
        for attempt in range(2):
            try:
                new_job = job_restart(
                    job=self.job,
                    acting_user=self.user,
                    void_first=void_first,
                    confirm_duplicates=not void_first,
                )
            except DomainError as error:
                # Rows that may exist at UPS unrecorded are settled by a person first.
                if error.code != "restart_unknown_rows" or attempt:
                    raise
                for row in JobRow.objects.filter(
                    job=self.job, row_number__in=error.details["rows"]
                ):
                    self.decide(row)
            else:
                self.jobs.append(new_job)
                return

    def fault(self, choice: int) -> None:
        fault = dict(FAULTS[choice % len(FAULTS)])
        fault.setdefault("count", 1)
        self.sandbox.set_fault(fault.pop("kind"), after=choice % 3, **fault)


def check_promises(jobs: list[Job], sandbox: SandboxController) -> None:
    """Assert the invariants of the module docstring over every job made so far."""
    # References start with SO<job id>-: a late answer of an earlier example is not ours.
    ours = tuple(f"SO{job.pk}-" for job in jobs)
    live: dict[str, list[str]] = {}
    for shipment in sandbox.ledger():
        if not shipment["voided"] and shipment["reference"].startswith(ours):
            live.setdefault(shipment["reference"], []).append(shipment["tracking_number"])
    twice = {reference: numbers for reference, numbers in live.items() if len(numbers) > 1}
    assert not twice, f"shipped twice: {twice}"
    rows = {row.reference: row for row in JobRow.objects.filter(job__in=jobs)}
    for reference, (tracking,) in live.items():
        row = rows[reference]
        settled = row.status == RowStatus.SHIPPED and row.tracking_number == tracking
        assert settled or row.status == RowStatus.UNKNOWN, f"lost {tracking}: {row} {row.status}"
    for row in rows.values():
        if row.status == RowStatus.SHIPPED:
            assert row.tracking_number, f"{row} shipped without a tracking number"
            assert live.get(row.reference) == [row.tracking_number], f"{row} not at UPS"
    for job in jobs:
        job.refresh_from_db()
        assert audit_trail_problems(job) == []
        shipped = JobRow.objects.filter(job=job, status=RowStatus.SHIPPED)
        assert job.shipped_count == shipped.count(), job
        if job.status != JobStatus.CANCELLED:  # cancelling keeps the count of failures seen
            failed = JobRow.objects.filter(job=job, status=RowStatus.FAILED).count()
            assert job.failed_count == failed, job
        cost = shipped.aggregate(total=Sum("actual_cost_cents"))["total"] or 0
        assert job.actual_cost_cents >= cost, job  # voided rows keep what they cost


@pytest.fixture
def fast_ups(settings: LazySettings, ups_sandbox: SandboxController) -> SandboxController:
    settings.UPS_READ_TIMEOUT = 1.0
    settings.UPS_CONNECT_TIMEOUT = 1.0
    return ups_sandbox


@settings(
    max_examples=int(os.environ.get("SHIPOPS_FUZZ_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=0, max_value=30)),
        min_size=4,
        max_size=14,
    ),
    auto=st.booleans(),
)
def test_operator_actions_and_faults_keep_every_promise(
    steps: list[tuple[str, int]],
    auto: bool,
    fast_ups: SandboxController,
    approver: User,
    orders_csv: Callable[..., DataSource],
) -> None:
    from jobs.services.creation import job_create

    fast_ups.reset()  # each example starts with an empty ledger and no faults
    clear_cached_tokens()
    source = orders_csv(4, name=f"orders-{next(sources)}.csv")
    job = job_create(source=source, actor=approver, mode="auto" if auto else "confirm")
    operator = Operator(approver, fast_ups, job)
    for action, choice in steps:
        operator.act(action, choice)
        check_promises(operator.jobs, fast_ups)
