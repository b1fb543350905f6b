"""While a restart works on a stopped job, nobody resumes, cancels or restarts it underneath."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from datasources.models import DataSource
from jobs.models import AuditEntry, Job, JobRow
from jobs.services import restart as restart_module
from jobs.services.audit import audit_trail_problems
from jobs.services.cancel import job_cancel
from jobs.services.lease import restart_hold
from jobs.services.restart import job_restart
from jobs.services.resume import RESUMABLE, job_resume
from shipops.errors import DomainError
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.test_engine_cancel_restart import failed_at_row_4, lapse_the_restarts_hold
from tests.jobs.test_engine_failures import statuses

pytestmark = pytest.mark.django_db


def refusals_meanwhile(job: Job, approver: User) -> list[str]:
    """Try to resume, cancel and restart ``job``; return the refusals' codes."""
    codes = []
    for attempt in (
        lambda: job_resume(job=Job.objects.get(pk=job.pk), actor=approver, in_background=False),
        lambda: job_cancel(job=Job.objects.get(pk=job.pk), actor=approver, reason="Colleague."),
        lambda: job_restart(job=Job.objects.get(pk=job.pk), acting_user=approver, void_first=True),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        codes.append(refused.value.code)
    return codes


@pytest.fixture
def job(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> Job:
    """Rows 1-3 shipped, row 4 refused by UPS: a failed job to restart."""
    return failed_at_row_4(ups_sandbox, orders_csv(6), approver)


@pytest.mark.parametrize("step", ["job_create", "job_void_shipped"])
def test_resume_cancel_and_restart_are_refused_while_a_restart_holds_the_job(
    job: Job,
    ups_sandbox: SandboxController,
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    real_step = getattr(restart_module, step)
    seen: list[list[str]] = []

    def step_with_colleagues(**kwargs: Any) -> Any:
        done = real_step(**kwargs)
        seen.append(refusals_meanwhile(job, approver))  # another operator, meanwhile
        return done

    monkeypatch.setattr(restart_module, step, step_with_colleagues)
    new_job = job_restart(job=job, acting_user=approver, void_first=True)

    assert seen == [["restart_in_progress"] * 3]
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.lease_expires_at) == ("cancelled", "", None)
    assert statuses(job) == ["voided"] * 3 + ["cancelled"] * 3
    assert new_job.status == "approved"
    ledger = ups_sandbox.ledger()
    assert (len(ledger), sum(1 for entry in ledger if entry.get("voided"))) == (3, 3)
    began = AuditEntry.objects.get(job=job, action="restart_began")
    assert began.message == (
        f"{approver.get_username()} began restarting {job}; it cannot be resumed or cancelled "
        "until the restart is done."
    )
    assert audit_trail_problems(job) == []


def test_a_restart_that_died_holding_the_job_frees_it_when_its_hold_lapses(
    job: Job, approver: User
) -> None:
    assert restart_hold(job=job, actor=approver, statuses=RESUMABLE) is not None
    # The restart's process dies here, holding the job.

    assert refusals_meanwhile(job, approver) == ["restart_in_progress"] * 3
    said = (
        f"{job} is being restarted (restart by {approver.get_username()}): wait until the "
        "restart is done (a few seconds per shipment it voids), then look at the job again."
    )
    with pytest.raises(DomainError, match=f"^{re.escape(said)}$"):
        job_resume(job=job, actor=approver, in_background=False)

    lapse_the_restarts_hold(job)
    job_resume(job=job, actor=approver, in_background=False)
    job.refresh_from_db()
    assert job.status == "running"
    assert JobRow.objects.filter(job=job, status="pending").count() == 3
