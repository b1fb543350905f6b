"""Phase A written out in SQL does what lease_renew + row_transition do, on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.actors import Actor, SystemActor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.in_flight import row_mark_in_flight
from jobs.services.lease import Lease, LeaseLost, lease_renew
from jobs.services.transitions import row_transition
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


def test_the_row_goes_in_flight_as_through_the_orm() -> None:
    orm_row, orm_lease = _leased_row(attempts=2)
    sql_row, sql_lease = _leased_row(attempts=2)
    before = timezone.now()
    lease_renew(orm_lease)
    row_transition(
        row=orm_row,
        to_status=RowStatus.IN_FLIGHT,
        actor=WORKER,
        action="ship_started",
        message="Sending (reference R).",
        changes={"attempts": 3},
    )
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
