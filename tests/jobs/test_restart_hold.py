"""While a restart works on a stopped job, nobody resumes, cancels or restarts it underneath."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from datasources.models import DataSource
from jobs import queue as queue_module
from jobs.models import AuditEntry, Job, JobRow
from jobs.services import creation as creation_module
from jobs.services import restart as restart_module
from jobs.services import restart_holds
from jobs.services.approval import job_approve, job_exclude_rows
from jobs.services.audit import audit_trail_problems
from jobs.services.cancel import job_cancel
from jobs.services.preview import job_preview_start
from jobs.services.restart import job_restart
from jobs.services.restart_holds import restart_hold
from jobs.services.resume import RESUMABLE, job_resume
from shipops.errors import DomainError
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.test_engine_cancel_restart import (
    failed_at_row_4,
    lapse_the_restarts_hold,
    restart_stopped_after_voiding_row_1,
)
from tests.jobs.test_engine_failures import statuses
from ups.client import UpsClient

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
        f"{job} is held by a restart (restart by {approver.get_username()}): wait until the "
        "restart is done (a few seconds per shipment it voids), then look at the job again."
    )
    with pytest.raises(DomainError, match=f"^{re.escape(said)}$"):
        job_resume(job=job, actor=approver, in_background=False)

    lapse_the_restarts_hold(job)
    job_resume(job=job, actor=approver, in_background=False)
    job.refresh_from_db()
    assert job.status == "running"
    assert JobRow.objects.filter(job=job, status="pending").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_restart_through_the_api_commits_its_steps_and_audits_them(
    job: Job, approver: User, client: Client
) -> None:
    # Each service step makes its own transaction, as in production (no test transaction).
    client.force_login(approver)
    response = client.post(
        f"/api/jobs/{job.pk}/restart",
        data={"confirm_duplicates": True},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    new_job = Job.objects.get(pk=response.json()["id"])
    assert (new_job.status, Job.objects.get(pk=job.pk).status) == ("approved", "cancelled")
    copied = AuditEntry.objects.get(job=new_job, action="preview_copied")
    assert (copied.data["previewed"], copied.data["rows"], copied.data["unrated"]) == (job.pk, 6, 0)
    assert audit_trail_problems(new_job) == []


def test_a_restart_that_stops_ends_its_hold_in_the_audit_trail(
    job: Job, approver: User, ups_sandbox: SandboxController
) -> None:
    stopped = restart_stopped_after_voiding_row_1(job, ups_sandbox, approver)

    assert stopped.code == "void_failed"
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.lease_expires_at) == ("failed", "", None)
    ended = AuditEntry.objects.get(job=job, action="restart_ended")
    assert ended.message == (
        f"The restart of {job} stopped without cancelling it; it can be resumed, restarted or "
        "cancelled again."
    )


def test_voiding_stops_at_the_next_row_once_a_lapsed_hold_let_a_resume_in(
    job: Job, approver: User, ups_sandbox: SandboxController, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_void = UpsClient.void

    def void_then_resumed(client: UpsClient, *args: Any, **kwargs: Any) -> Any:
        result = real_void(client, *args, **kwargs)
        if not JobRow.objects.filter(job=job, status="voided").exists():
            lapse_the_restarts_hold(job)  # a restart slower than its hold
            job_resume(job=Job.objects.get(pk=job.pk), actor=approver, in_background=False)
        return result

    monkeypatch.setattr(UpsClient, "void", void_then_resumed)
    with pytest.raises(DomainError) as refused:
        job_restart(job=job, acting_user=approver, void_first=True)

    assert statuses(job)[:3] == ["voided", "shipped", "shipped"]
    assert refused.value.code == "void_stopped"
    assert refused.value.message.startswith(
        f"Voiding the shipments of {job} stopped before row 2: {job} was taken over (it is "
        "running now). 1 shipment was voided before it."
    )
    assert sum(1 for entry in ups_sandbox.ledger() if entry.get("voided")) == 1


def test_nobody_else_acts_on_the_restarts_new_job_before_the_restart_approves_it(
    job: Job, approver: User, ups_sandbox: SandboxController, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A colleague approving the new draft while old shipments are voided would let the
    # restart, refused at its own approval, cancel a running job and restore the voids.
    seen: list[list[str]] = []
    real_void = restart_module.job_void_shipped

    def void_while_a_colleague_acts(**kwargs: Any) -> list[JobRow]:
        new_job = Job.objects.exclude(pk=job.pk).get()
        seen.append(colleague_refusals(new_job, approver))
        return real_void(**kwargs)

    monkeypatch.setattr(restart_module, "job_void_shipped", void_while_a_colleague_acts)
    new_job = job_restart(job=job, acting_user=approver, void_first=True)

    assert seen == [["restart_in_progress"] * 4]
    assert new_job.status == "approved"
    assert new_job.lease_owner == f"queued by {approver.get_username()}"


def colleague_refusals(new_job: Job, approver: User) -> list[str]:
    """Try to approve, preview, exclude rows of and cancel ``new_job``; return the codes."""
    codes = []
    for attempt in (
        lambda: job_approve(job=new_job, acting_user=approver, in_background=False),
        lambda: job_preview_start(job=new_job, actor=approver, in_background=False),
        lambda: job_exclude_rows(job=new_job, actor=approver, row_ids=[]),
        lambda: job_cancel(job=new_job, actor=approver, reason="Looks like a duplicate."),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        codes.append(refused.value.code)
    return codes


def restart_taken_after_the_first_void(
    job: Job, approver: User, monkeypatch: pytest.MonkeyPatch, colleague: Callable[[Job], object]
) -> tuple[DomainError, Job]:
    """Restart ``job`` voiding first; after UPS voids row 1, both holds lapse and a colleague
    acts on the new job. Return the restart's refusal and the new job."""
    real_void = UpsClient.void

    def void_then_taken(client: UpsClient, *args: Any, **kwargs: Any) -> Any:
        result = real_void(client, *args, **kwargs)
        if not JobRow.objects.filter(job=job, status="voided").exists():
            new_job = Job.objects.exclude(pk=job.pk).get()
            lapse_the_restarts_hold(job)
            lapse_the_restarts_hold(new_job)
            colleague(new_job)
        return result

    monkeypatch.setattr(UpsClient, "void", void_then_taken)
    with pytest.raises(DomainError) as stopped:
        job_restart(job=job, acting_user=approver, void_first=True)
    return stopped.value, Job.objects.exclude(pk=job.pk).get()


def exclude_row_1(new_job: Job, approver: User) -> int:
    row_1 = JobRow.objects.get(job=new_job, row_number=1)
    return job_exclude_rows(job=new_job, actor=approver, row_ids=[row_1.pk])


@pytest.mark.parametrize("action", ["cancels", "previews"])
def test_a_restart_whose_new_job_was_taken_names_it_and_restores_its_voids(
    job: Job, approver: User, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    def colleague(new_job: Job) -> object:
        if action == "cancels":
            return job_cancel(job=new_job, actor=approver, reason="Looks like a duplicate.")
        return job_preview_start(job=new_job, actor=approver, in_background=False)

    stopped, new_job = restart_taken_after_the_first_void(job, approver, monkeypatch, colleague)

    status = "cancelled" if action == "cancels" else "previewing"
    assert stopped.code == "void_stopped"
    assert stopped.message.startswith(
        f"Voiding the shipments of {job} stopped before row 2: the new job, {new_job}, was "
        f"taken over (it is {status} now). 1 shipment was voided before it."
    )
    assert (
        f"{new_job} was cancelled. UPS voided the shipments of row(s) 1; they are pending on "
        in (stopped.message)
    )
    assert stopped.details["restored_rows"] == [1]
    assert statuses(job)[:4] == ["pending", "shipped", "shipped", "failed"]
    assert Job.objects.get(pk=new_job.pk).status == "cancelled"


def test_the_new_jobs_hold_counts_from_the_end_of_the_sources_read(
    job: Job, approver: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [timezone.now()]
    monkeypatch.setattr(
        restart_holds, "lease_expiry", lambda seconds=None: clock[0] + timedelta(seconds=60)
    )
    real_store = creation_module._store_rows

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        clock[0] += timedelta(seconds=90)  # a source that takes longer than a hold to read
        return real_store(*args, **kwargs)

    monkeypatch.setattr(creation_module, "_store_rows", slow_read)
    expiries: list[object] = []
    real_copy = restart_module.job_copy_preview

    def copy_preview(**kwargs: Any) -> int:
        expiries.append(Job.objects.get(pk=kwargs["job"].pk).lease_expires_at)
        return real_copy(**kwargs)

    monkeypatch.setattr(restart_module, "job_copy_preview", copy_preview)
    job_restart(job=job, acting_user=approver, confirm_duplicates=True)

    assert expiries == [clock[0] + timedelta(seconds=60)]


def test_a_new_job_approved_by_someone_else_is_left_to_ship_and_the_old_job_named(
    job: Job, approver: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rows 4-6 left out of the old job: nothing but shipped rows, which a restart ships again;
    # in auto mode, its new job needs no preview before an approval.
    JobRow.objects.filter(job=job, row_number__gt=3).update(status="skipped")
    Job.objects.filter(pk=job.pk).update(mode="auto")
    job.refresh_from_db()
    real_copy = restart_module.job_copy_preview

    def copy_then_approved_by_a_colleague(**kwargs: Any) -> int:
        copied = real_copy(**kwargs)
        lapse_the_restarts_hold(kwargs["job"])
        job_approve(job=kwargs["job"], acting_user=approver, in_background=False)
        return copied

    monkeypatch.setattr(restart_module, "job_copy_preview", copy_then_approved_by_a_colleague)
    with pytest.raises(DomainError) as stopped:
        job_restart(job=job, acting_user=approver, confirm_duplicates=True)

    new_job = Job.objects.exclude(pk=job.pk).get()
    assert stopped.value.message == (
        f"The restart of {job} stopped after reading the source: the new job, {new_job}, was "
        "taken over (it is approved now). The restart took longer than its hold on the jobs, "
        f"and someone acted on them meanwhile. This restart left {job} as it is; look at the "
        f"jobs again and choose again. {new_job} was approved by someone else meanwhile, so it "
        "was left as it is: it ships the orders it holds again, a second time for those whose "
        f"shipments were not voided. Cancel {job} rather than resume it."
    )
    assert (new_job.status, Job.objects.get(pk=job.pk).status) == ("approved", "failed")


def test_a_colleague_excluding_rows_of_the_new_job_stops_the_restart(
    job: Job, approver: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def colleague(new_job: Job) -> object:
        return exclude_row_1(new_job, approver)

    stopped, new_job = restart_taken_after_the_first_void(job, approver, monkeypatch, colleague)

    assert stopped.message.startswith(
        f"Voiding the shipments of {job} stopped before row 2: the new job, {new_job}, was "
        "taken over (it is draft now, 1 row excluded)."
    )
    assert stopped.details["restored_rows"] == [1]
    assert statuses(job)[:4] == ["pending", "shipped", "shipped", "failed"]
    assert Job.objects.get(pk=new_job.pk).status == "cancelled"


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OperationalError])
def test_a_restart_stopped_by_ctrl_c_or_the_database_still_undoes_itself(
    job: Job, approver: User, monkeypatch: pytest.MonkeyPatch, failure: type[BaseException]
) -> None:
    real_void = UpsClient.void

    def void_then_fail(client: UpsClient, *args: Any, **kwargs: Any) -> Any:
        if JobRow.objects.filter(job=job, status="voided").exists():
            raise failure("database is locked" if failure is OperationalError else "")
        return real_void(client, *args, **kwargs)

    monkeypatch.setattr(UpsClient, "void", void_then_fail)
    with pytest.raises(failure):
        job_restart(job=job, acting_user=approver, void_first=True)

    new_job = Job.objects.exclude(pk=job.pk).get()
    assert Job.objects.get(pk=new_job.pk).status == "cancelled"
    assert statuses(job)[:4] == ["pending", "shipped", "shipped", "failed"]
    restored = AuditEntry.objects.get(job=job, action="row_void_restored")
    assert "during a restart that stopped" in restored.message
    cancelled = AuditEntry.objects.get(job=new_job, action="job_cancelled")
    assert f"The restart stopped on an unexpected error ({failure.__name__})." in cancelled.message


@pytest.mark.django_db(transaction=True)
def test_a_broker_failing_after_the_restart_committed_undoes_nothing(
    job: Job, approver: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(queue_module, "async_task", broker_down)
    with pytest.raises(DomainError) as refused:
        job_restart(job=job, acting_user=approver, void_first=True)

    new_job = Job.objects.exclude(pk=job.pk).get()
    # Done before the task could be queued: the new job is interrupted at once and
    # resumes from there; the restart itself is not undone.
    assert (refused.value.code, refused.value.details["job"]) == ("queue_unavailable", new_job.pk)
    assert (Job.objects.get(pk=job.pk).status, new_job.status) == ("cancelled", "interrupted")
    assert statuses(job)[:3] == ["voided"] * 3
    assert not AuditEntry.objects.filter(action="row_void_restored").exists()
    assert "The restart of" not in caplog.text  # nothing stopped: it was done


def test_rows_excluded_from_the_new_job_during_the_last_void_stop_the_restart(
    job: Job, approver: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_void = UpsClient.void

    def last_void_then_excluded(client: UpsClient, *args: Any, **kwargs: Any) -> Any:
        result = real_void(client, *args, **kwargs)
        if JobRow.objects.filter(job=job, status="voided").count() == 2:  # row 3's void
            new_job = Job.objects.exclude(pk=job.pk).get()
            lapse_the_restarts_hold(new_job)
            row_1 = JobRow.objects.get(job=new_job, row_number=1)
            job_exclude_rows(job=new_job, actor=approver, row_ids=[row_1.pk])
        return result

    monkeypatch.setattr(UpsClient, "void", last_void_then_excluded)
    with pytest.raises(DomainError) as stopped:
        job_restart(job=job, acting_user=approver, void_first=True)

    new_job = Job.objects.exclude(pk=job.pk).get()
    assert stopped.value.message.startswith(
        f"The restart of {job} stopped before cancelling it: the new job, {new_job}, was taken "
        "over (it is draft now, 1 row excluded)."
    )
    assert stopped.value.details["restored_rows"] == [1, 2, 3]
    assert Job.objects.get(pk=new_job.pk).status == "cancelled"


def test_a_stopped_restart_says_which_voided_orders_the_approved_new_job_leaves_out(
    job: Job, approver: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    JobRow.objects.filter(job=job, row_number__gt=3).update(status="skipped")
    Job.objects.filter(pk=job.pk).update(mode="auto")  # its new job approves without a preview
    job.refresh_from_db()

    def colleague(new_job: Job) -> object:
        exclude_row_1(new_job, approver)
        return job_approve(job=new_job, acting_user=approver, in_background=False)

    stopped, new_job = restart_taken_after_the_first_void(job, approver, monkeypatch, colleague)

    assert stopped.message.endswith(
        f"UPS voided the shipments of row(s) 1, and {new_job} leaves them out: they stay "
        "voided, so ship those orders with a new job once both jobs are done."
    )
    assert f"{new_job} ships them again" not in stopped.message
    assert stopped.details["restored_rows"] == []
    assert Job.objects.get(pk=new_job.pk).status == "approved"


def test_a_hold_that_cannot_be_released_is_logged_not_raised_over_the_outcome(
    job: Job, approver: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def database_gone(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(restart_module, "lease_release", database_gone)
    new_job = job_restart(job=job, acting_user=approver, confirm_duplicates=True)

    assert new_job.status == "approved"
    assert f"The restart could not release its hold on {new_job}." in caplog.text
