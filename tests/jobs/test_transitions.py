"""Transition services on the real database: audited, atomic, and refused when illegal."""

from __future__ import annotations

import pytest
from django.db import transaction

from jobs.actors import SystemActor, system_actor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.transitions import job_transition, row_transition, row_writeback_transition
from jobs.states import JOB_TRANSITIONS, ROW_TRANSITIONS, WRITEBACK_TRANSITIONS
from shipops.errors import DomainError
from tests.factories import JobFactory, JobRowFactory, UserFactory

pytestmark = pytest.mark.django_db

JOB_EDGES = [(a, b) for a, targets in JOB_TRANSITIONS.items() for b in sorted(targets)]
ROW_EDGES = [(a, b) for a, targets in ROW_TRANSITIONS.items() for b in sorted(targets)]
WRITEBACK_EDGES = [(a, b) for a, targets in WRITEBACK_TRANSITIONS.items() for b in sorted(targets)]


@pytest.mark.parametrize(("current", "target"), JOB_EDGES)
def test_every_legal_job_transition_is_saved_and_audited(current: str, target: str) -> None:
    job = JobFactory.create(status=current)
    user = UserFactory.create()
    job_transition(job=job, to_status=target, actor=user, action="test", message="Moved.")

    job.refresh_from_db()
    assert job.status == target
    entry = AuditEntry.objects.get(job=job)
    assert (entry.actor, entry.actor_label, entry.action) == (user, user.username, "test")
    assert entry.data == {"from": current, "to": target}


def _tracking_for(target: str) -> dict[str, str]:
    # The database refuses a shipped or voided row without a tracking number.
    return {"tracking_number": "1Z999AA10123456784"} if target in {"shipped", "voided"} else {}


@pytest.mark.parametrize(("current", "target"), ROW_EDGES)
def test_every_legal_row_transition_is_saved_and_audited(current: str, target: str) -> None:
    row = JobRowFactory.create(status=current, **_tracking_for(current))
    actor = SystemActor("worker test:1")
    row_transition(
        row=row,
        to_status=target,
        actor=actor,
        action="test",
        message="Moved.",
        changes=_tracking_for(target),
    )

    row.refresh_from_db()
    assert row.status == target
    entry = AuditEntry.objects.get(row=row)
    assert (entry.job_id, entry.actor, entry.actor_label) == (row.job_id, None, "worker test:1")


@pytest.mark.parametrize(("current", "target"), WRITEBACK_EDGES)
def test_every_legal_writeback_transition_is_saved_and_audited(current: str, target: str) -> None:
    row = JobRowFactory.create(writeback_status=current)
    row_writeback_transition(
        row=row, to_status=target, actor=system_actor("worker"), message="Wrote.", error="x"
    )
    row.refresh_from_db()
    assert (row.writeback_status, row.writeback_error) == (target, "x")
    assert AuditEntry.objects.get(row=row).action == f"writeback_{target}"


@pytest.mark.parametrize(
    ("current", "target"), [("completed", "running"), ("draft", "running"), ("cancelled", "draft")]
)
def test_illegal_job_transition_changes_nothing(current: str, target: str) -> None:
    job = JobFactory.create(status=current)
    with pytest.raises(DomainError) as refused:
        job_transition(
            job=job, to_status=target, actor=system_actor("test"), action="x", message="x"
        )
    assert refused.value.code == "illegal_transition"
    assert Job.objects.get(pk=job.pk).status == current
    assert not AuditEntry.objects.exists()


def test_illegal_row_transition_changes_nothing() -> None:
    row = JobRowFactory.create(status="shipped", tracking_number="1Z999AA10123456784")
    with pytest.raises(DomainError) as refused:
        row_transition(
            row=row, to_status="pending", actor=system_actor("w"), action="x", message="x"
        )
    assert refused.value.code == "illegal_transition"
    assert JobRow.objects.get(pk=row.pk).status == "shipped"
    assert not AuditEntry.objects.exists()


def test_transition_checks_the_stored_status_not_the_callers_copy() -> None:
    job = JobFactory.create(status="draft")
    stale = Job.objects.get(pk=job.pk)
    job_transition(
        job=job, to_status="cancelled", actor=system_actor("test"), action="x", message="x"
    )
    with pytest.raises(DomainError):
        job_transition(
            job=stale, to_status="approved", actor=system_actor("test"), action="x", message="x"
        )
    assert Job.objects.get(pk=job.pk).status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_failure_inside_the_transaction_leaves_neither_change_nor_audit() -> None:
    """Runs with real commits, so the rollback is the database's, on SQLite and PostgreSQL."""
    job = JobFactory.create(status="draft")

    def transition_then_crash() -> None:
        with transaction.atomic():
            job_transition(
                job=job, to_status="previewing", actor=system_actor("test"), action="x", message="x"
            )
            raise RuntimeError("crash after the transition, before commit")

    with pytest.raises(RuntimeError):
        transition_then_crash()
    assert Job.objects.get(pk=job.pk).status == "draft"
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_change_refused_by_the_database_leaves_no_audit_entry() -> None:
    row = JobRowFactory.create(status="in_flight")
    with pytest.raises(Exception, match=r"(?i)constraint|check"):
        # Shipped without a tracking number: the CHECK constraint refuses the UPDATE.
        row_transition(
            row=row, to_status="shipped", actor=system_actor("w"), action="x", message="x"
        )
    assert JobRow.objects.get(pk=row.pk).status == "in_flight"
    assert not AuditEntry.objects.exists()
