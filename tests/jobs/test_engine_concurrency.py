"""Two workers, the session mode lock, and a source table written in the row's transaction."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection, connections

from datasources.models import DataSource
from jobs.actors import system_actor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services import preview
from jobs.services.approval import job_approve, session_mode_switch
from jobs.services.creation import job_create
from jobs.services.execution import job_execute
from jobs.services.preview import job_preview_run, job_preview_start
from jobs.services.recovery import jobs_mark_lapsed
from shipops.errors import DomainError
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import break_at_row, previewed_job, ship_all


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_workers_with_the_same_delivery_ship_each_row_once(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    job = previewed_job(orders_csv(20), approver)
    token = job_approve(job=job, acting_user=approver, in_background=False)
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    job.refresh_from_db()
    assert job.status == "completed"
    references = [entry["reference"] for entry in ups_sandbox.ledger()]
    assert len(references) == len(set(references)) == 20


@pytest.mark.django_db
def test_the_session_mode_is_locked_while_its_batch_runs(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    session_mode_switch(session_key="abc", to_mode="auto", actor=approver)
    job = job_create(source=orders_csv(3), actor=approver, mode="auto", session_key="abc")
    token = job_approve(job=job, acting_user=approver, in_background=False)

    with pytest.raises(DomainError) as refused:
        session_mode_switch(session_key="abc", to_mode="confirm", actor=approver)
    assert refused.value.code == "mode_locked"
    assert f"while {job} (started in this session) is approved" in refused.value.message
    session_mode_switch(session_key="another session", to_mode="confirm", actor=approver)

    job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
    session_mode_switch(session_key="abc", to_mode="confirm", actor=approver)


@pytest.mark.django_db
def test_a_table_in_the_same_database_is_updated_in_the_rows_transaction(
    ups_sandbox: SandboxController, orders_table: Callable[..., DataSource], approver: User
) -> None:
    source = orders_table(4)
    source.save()
    job = ship_all(previewed_job(source, approver), approver)

    assert job.status == "completed"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT order_id, tracking_number, shipped_at FROM shop_orders ORDER BY order_id"
        )
        table = cursor.fetchall()
    rows = JobRow.objects.filter(job=job).order_by("row_number")
    assert [(row.source_key, row.tracking_number) for row in rows] == [t[:2] for t in table]
    assert all(shipped_at for *_, shipped_at in table)
    assert set(rows.values_list("writeback_status", flat=True)) == {"written"}


@pytest.mark.django_db
def test_preview_stops_cleanly_when_ups_refuses_the_credentials(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    settings: Any,
) -> None:
    settings.UPS_CLIENT_SECRET = "wrong"
    job = job_create(source=orders_csv(3), actor=approver)
    job_preview_run(
        job_id=job.pk, token=job_preview_start(job=job, actor=approver, in_background=False)
    )
    job.refresh_from_db()
    assert job.status == "draft"
    assert job.last_error_message
    assert "wrong" not in job.last_error_message


@pytest.mark.django_db
def test_a_preview_whose_worker_died_goes_back_to_draft(
    orders_csv: Callable[..., DataSource], approver: User, settings: Any
) -> None:
    settings.SHIPOPS_HANDOVER_SECONDS = 0  # the queued task never started
    job = job_create(source=orders_csv(2), actor=approver)
    job_preview_start(job=job, actor=approver)
    marked = jobs_mark_lapsed(actor=system_actor("recovery schedule"))
    job.refresh_from_db()
    assert [m.pk for m in marked] == [job.pk]
    assert (job.status, job.last_error_code) == ("draft", "preview_interrupted")
    assert Job.objects.get(pk=job.pk).lease_owner == ""


@pytest.mark.django_db
def test_an_unexpected_error_in_the_preview_puts_the_job_back_in_draft_at_once(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    break_at_row(monkeypatch, preview, 2, ValueError("a bug, quoting the row: 2 Secret Lane"))
    job = job_create(source=orders_csv(3), actor=approver)
    token = job_preview_start(job=job, actor=approver, in_background=False)
    with pytest.raises(ValueError, match="Secret Lane"):  # still raised: the task fails, logged
        job_preview_run(job_id=job.pk, token=token)

    job.refresh_from_db()
    # At once, not when the lease lapses; the error's text stays in the worker's log.
    assert (job.status, job.lease_owner, job.lease_expires_at) == ("draft", "", None)
    assert job.last_error_code == "worker_error"
    assert job.last_error_message == (
        "An unexpected error (ValueError) stopped the worker; its log has the details."
    )
    entry = AuditEntry.objects.get(job=job, action="preview_interrupted")
    assert entry.message == f"The preview stopped: {job.last_error_message} Preview again."

    monkeypatch.undo()
    job_preview_run(
        job_id=job.pk, token=job_preview_start(job=job, actor=approver, in_background=False)
    )
    job.refresh_from_db()
    assert (job.status, job.last_error_code) == ("previewed", "")
    assert job.previewed_count == 3


@pytest.mark.django_db
def test_an_unexpected_error_ending_the_preview_puts_the_job_back_in_draft(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def totals_fail(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("the database went away")

    monkeypatch.setattr(preview, "format_cents", totals_fail)
    job = job_create(source=orders_csv(2), actor=approver)
    token = job_preview_start(job=job, actor=approver, in_background=False)
    with pytest.raises(OperationalError):
        job_preview_run(job_id=job.pk, token=token)
    job.refresh_from_db()
    assert (job.status, job.last_error_code) == ("draft", "worker_error")
    assert "(OperationalError)" in job.last_error_message


# SQLite (a file, IMMEDIATE transactions) serialises approvals whole; the in-memory
# test database locks tables instead and refuses the second thread ("table is locked").
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two connections at once need PostgreSQL here"
)
def test_two_approvals_of_the_same_orders_at_once_let_one_through(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    source = orders_csv(3)
    jobs = [previewed_job(source, approver) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def approve(job: Job) -> None:
        try:
            start.wait()
            job_approve(job=job, acting_user=approver, in_background=False)
            outcomes[job.pk] = "approved"
        except DomainError as error:
            outcomes[job.pk] = error.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes.values()) == ["approved", "rows_in_another_job"]
    assert sorted(Job.objects.values_list("status", flat=True)) == ["approved", "previewed"]


@pytest.mark.django_db
def test_a_preview_that_stops_sends_none_of_the_calls_queued_behind_the_failed_one(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
) -> None:
    # Every rate call is refused for its token, even a fresh one: the preview stops at once.
    ups_sandbox.set_fault("expired_token", endpoint="rate", count=10_000)
    job = job_create(source=orders_csv(400), actor=approver)  # two chunks of 200 rows
    job_preview_run(
        job_id=job.pk, token=job_preview_start(job=job, actor=approver, in_background=False)
    )
    job.refresh_from_db()
    assert job.status == "draft"
    assert "freshly issued access token" in job.last_error_message
    # Queued, 400 rows would be tried twice each (the second time with a new token);
    # only the calls already under way when the first one failed are sent.
    assert ups_sandbox.calls("rate") < 400
