"""Database constraints and the append-only audit trail."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from jobs.models import AuditEntry, Job
from jobs.services.audit import audit_record
from shipops.errors import DomainError
from tests.factories import AuditEntryFactory, JobFactory, JobRowFactory, UserFactory

pytestmark = pytest.mark.django_db


def _refused(**kwargs: object) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        JobRowFactory.create(**kwargs)


def test_shipped_row_needs_a_tracking_number() -> None:
    _refused(status="shipped", tracking_number="")


def test_one_row_per_job_and_source_key() -> None:
    row = JobRowFactory.create()
    _refused(job=row.job, source_key=row.source_key)


def test_references_are_unique_across_jobs() -> None:
    row = JobRowFactory.create()
    _refused(reference=row.reference)


def test_unknown_row_status_is_refused() -> None:
    _refused(status="teleported")


@pytest.mark.parametrize("field", ["row_count", "shipped_count", "estimated_cost_cents"])
def test_counts_and_costs_are_never_negative(field: str) -> None:
    job = JobFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.filter(pk=job.pk).update(**{field: -1})


def test_counts_never_exceed_the_rows() -> None:
    job = JobFactory.create(row_count=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.filter(pk=job.pk).update(shipped_count=3)


def test_audit_entry_cannot_be_saved_again() -> None:
    entry = AuditEntryFactory.create()
    entry.message = "rewritten"
    with pytest.raises(DomainError) as refused:
        entry.save()
    assert refused.value.code == "audit_immutable"
    assert AuditEntry.objects.get(pk=entry.pk).message == "A test entry."


def test_audit_entry_cannot_be_deleted_one_by_one_or_in_bulk() -> None:
    entry = AuditEntryFactory.create()
    with pytest.raises(DomainError):
        entry.delete()
    with pytest.raises(DomainError):
        AuditEntry.objects.all().delete()
    with pytest.raises(DomainError):
        AuditEntry.objects.filter(pk=entry.pk).update(message="x")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_job_with_audit_trail_cannot_be_deleted() -> None:
    entry = AuditEntryFactory.create()
    assert entry.job is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.job.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_write_outside_a_transaction() -> None:
    job = JobFactory.create()
    with pytest.raises(DomainError) as refused:
        audit_record(actor=UserFactory.create(), action="x", message="x", job=job)
    assert refused.value.code == "audit_outside_transaction"
    assert not AuditEntry.objects.exists()
