"""Phase A written out in SQL does what lease_renew + row_transition do, on the real database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import DataError, connections, transaction
from django.utils import timezone

from jobs.actors import Actor, SystemActor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.in_flight import mark_in_flight_through_orm, row_mark_in_flight
from jobs.services.lease import Lease, LeaseLost
from jobs.states import JobStatus, RowStatus
from shipops.errors import DomainError
from tests.factories import JobFactory, JobRowFactory, UserFactory

pytestmark = pytest.mark.django_db

WORKER = SystemActor("worker test:1")
TOKEN = 7


def _leased_row(**row_fields: object) -> tuple[JobRow, Lease]:
    job = JobFactory.create(status=JobStatus.RUNNING, fencing_token=TOKEN, lease_owner="test")
    return JobRowFactory.create(job=job, **row_fields), Lease(job.pk, TOKEN, "test")


def _mark(row: JobRow, lease: Lease, actor: Actor = WORKER) -> None:
    row_mark_in_flight(row=row, lease=lease, actor=actor, message="Sending (reference R).")


def _state(row: JobRow) -> tuple[object, ...]:
    """What phase A leaves in the database: the row's fields and its audit entry's."""
    stored = JobRow.objects.get(pk=row.pk)
    entry = AuditEntry.objects.get(row=row, job_id=row.job_id)
    return (
        (stored.status, stored.attempts),
        (entry.actor_id, entry.actor_label, entry.action, entry.message, entry.data),
    )


def _mark_through_orm(row: JobRow, lease: Lease, actor: Actor = WORKER) -> None:
    mark_in_flight_through_orm(row=row, lease=lease, actor=actor, message="Sending (reference R).")


def test_the_row_goes_in_flight_as_through_the_orm() -> None:
    orm_row, orm_lease = _leased_row(attempts=2)
    sql_row, sql_lease = _leased_row(attempts=2)
    before = timezone.now()
    _mark_through_orm(orm_row, orm_lease)
    _mark(sql_row, sql_lease)

    assert _state(sql_row) == _state(orm_row)
    assert _state(orm_row)[0] == (RowStatus.IN_FLIGHT, 3)
    stored = JobRow.objects.get(pk=sql_row.pk)
    entry = AuditEntry.objects.get(row=sql_row)
    assert before <= stored.updated_at <= timezone.now()
    assert before <= entry.created_at <= timezone.now()
    # The caller's copy is the stored row.
    assert (sql_row.status, sql_row.attempts, sql_row.updated_at) == (
        stored.status,
        stored.attempts,
        stored.updated_at,
    )
    job = Job.objects.get(pk=sql_row.job_id)
    assert job.lease_expires_at is not None
    assert job.lease_expires_at > timezone.now() + timedelta(seconds=10)


@pytest.mark.django_db(transaction=True)
def test_the_mark_is_committed_when_it_returns() -> None:
    row, lease = _leased_row()
    _mark(row, lease)
    seen: dict[str, object] = {}

    def look() -> None:  # another thread: its own database connection
        try:
            seen["status"] = JobRow.objects.get(pk=row.pk).status
            seen["entries"] = AuditEntry.objects.filter(row=row, action="ship_started").count()
        finally:
            connections.close_all()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    assert seen == {"status": RowStatus.IN_FLIGHT, "entries": 1}


def test_a_label_too_long_for_its_column_fares_as_through_the_orm() -> None:
    # PostgreSQL refuses a varchar(200) value of 250 characters; SQLite keeps it whole.
    actor = SystemActor("w" * 250)

    def outcome(mark: Callable[[JobRow, Lease, Actor], None]) -> str:
        row, lease = _leased_row()
        try:
            with transaction.atomic():
                mark(row, lease, actor)
        except DataError:
            return "refused"
        return AuditEntry.objects.get(row=row).actor_label

    assert outcome(_mark) == outcome(_mark_through_orm)


def test_a_person_is_named_in_the_audit_entry() -> None:
    row, lease = _leased_row()
    user = UserFactory.create()
    _mark(row, lease, actor=user)

    entry = AuditEntry.objects.get(row=row)
    assert (entry.actor, entry.actor_label) == (user, user.username)


@pytest.mark.parametrize(
    ("token", "job_status"),
    [(TOKEN + 1, JobStatus.RUNNING), (TOKEN, JobStatus.INTERRUPTED)],
    ids=["taken-by-another-worker", "no-longer-running"],
)
def test_a_lost_lease_writes_nothing(token: int, job_status: str) -> None:
    row, lease = _leased_row()
    Job.objects.filter(pk=row.job_id).update(fencing_token=token, status=job_status)

    with pytest.raises(LeaseLost):
        _mark(row, lease)

    assert JobRow.objects.get(pk=row.pk).status == RowStatus.PENDING
    assert not AuditEntry.objects.filter(row=row).exists()
    assert Job.objects.get(pk=row.job_id).lease_expires_at is None
    assert row.status == RowStatus.PENDING


def test_a_row_cancelled_since_it_was_read_is_refused_and_left_alone() -> None:
    row, lease = _leased_row()
    JobRow.objects.filter(pk=row.pk).update(status=RowStatus.CANCELLED)

    with pytest.raises(DomainError, match="cancelled"):
        _mark(row, lease)

    assert JobRow.objects.get(pk=row.pk).status == RowStatus.CANCELLED
    assert not AuditEntry.objects.filter(row=row).exists()


def test_a_row_that_is_no_longer_pending_in_the_callers_copy_is_refused() -> None:
    row, lease = _leased_row(status=RowStatus.SHIPPED, tracking_number="1Z999AA10123456784")

    with pytest.raises(DomainError):
        _mark(row, lease)

    assert JobRow.objects.get(pk=row.pk).status == RowStatus.SHIPPED
    assert not AuditEntry.objects.filter(row=row).exists()
