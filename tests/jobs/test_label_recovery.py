"""Shipped rows without a label get it from UPS's Label Recovery; what UPS will not give is said."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage

from jobs.models import AuditEntry, Job, JobRow
from jobs.services.label_recovery import job_fetch_labels, row_fetch_label, rows_without_label
from shipops.errors import DomainError
from tests.factories import JobFactory, ShippedJobRowFactory
from tests.fixtures.ups_sandbox import SandboxController
from tests.ups.conftest import shipment
from ups.client import UpsClient

pytestmark = pytest.mark.django_db

UNKNOWN_TO_UPS = "1Z999AA10123456784"


def unlabelled_rows(job: Job, count: int) -> list[JobRow]:
    """``count`` rows shipped at the sandbox, recorded without their labels."""
    client = UpsClient()
    rows = []
    for number in range(1, count + 1):
        reference = f"SO-L{job.pk}-{number}"
        shipped = client.ship(shipment(reference))
        rows.append(
            ShippedJobRowFactory.create(
                job=job,
                row_number=number,
                reference=reference,
                tracking_number=shipped.tracking_number,
                shipment_id=shipped.shipment_id,
            )
        )
    return rows


def test_every_row_without_a_label_is_asked_and_one_ups_does_not_know_is_said(
    ups_sandbox: SandboxController, approver: User
) -> None:
    job = JobFactory.create()
    first, second = unlabelled_rows(job, 2)
    typed = ShippedJobRowFactory.create(job=job, row_number=3, tracking_number=UNKNOWN_TO_UPS)

    outcome = job_fetch_labels(job=job, actor=approver)

    assert outcome.fetched == [1, 2]
    assert outcome.problems() == [
        f"Row 3 ({UNKNOWN_TO_UPS}): no label: No label was found for the tracking number."
    ]
    assert outcome.fetched_sentence() == "2 labels fetched from UPS (rows 1, 2)."
    assert list(rows_without_label(job)) == [typed]
    for row in (first, second):
        row.refresh_from_db()
        assert row.label.read().startswith(b"GIF8")
    entries = AuditEntry.objects.filter(job=job, action="label_fetched")
    assert {entry.row_id for entry in entries} == {first.pk, second.pk}
    assert {entry.actor_id for entry in entries} == {approver.pk}


def test_a_page_asks_for_at_most_the_limit_and_says_how_many_are_left(
    ups_sandbox: SandboxController, approver: User
) -> None:
    job = JobFactory.create()
    unlabelled_rows(job, 3)

    outcome = job_fetch_labels(job=job, actor=approver, limit=2)

    assert (outcome.fetched, outcome.left) == ([1, 2], 1)
    assert outcome.problems() == ["1 more row has no label: fetch again to ask UPS for them."]
    assert ups_sandbox.calls("label") == 2
    assert job_fetch_labels(job=job, actor=approver, limit=2).fetched == [3]


def test_when_ups_cannot_be_asked_the_rows_not_asked_are_said_and_nothing_is_stored(
    ups_sandbox: SandboxController, approver: User, settings: LazySettings
) -> None:
    job = JobFactory.create()
    unlabelled_rows(job, 3)
    ups_sandbox.set_fault("http_503", endpoint="label")
    settings.UPS_MAX_RETRIES = 0

    outcome = job_fetch_labels(job=job, actor=approver)

    assert outcome.fetched == []
    assert [number for number, _, _ in outcome.not_fetched] == [1, 2, 3]
    assert ups_sandbox.calls("label") == 1  # the first failure stops the asking
    assert rows_without_label(job).count() == 3
    assert not AuditEntry.objects.filter(job=job, action="label_fetched").exists()


def test_a_row_that_got_its_label_meanwhile_keeps_it_and_the_second_file_is_removed(
    ups_sandbox: SandboxController, approver: User, settings: LazySettings
) -> None:
    job = JobFactory.create()
    [row] = unlabelled_rows(job, 1)
    stale = JobRow.objects.get(pk=row.pk)  # read before the other fetch
    assert row_fetch_label(row=row, actor=approver)
    kept = str(JobRow.objects.get(pk=row.pk).label.name)

    assert not row_fetch_label(row=stale, actor=approver)

    assert JobRow.objects.get(pk=row.pk).label.name == kept
    media = Path(settings.MEDIA_ROOT)
    assert [path.name for path in media.rglob("*.gif")] == [Path(kept).name]
    assert AuditEntry.objects.filter(row=row, action="label_fetched").count() == 1


def test_a_label_that_cannot_be_stored_is_said_and_the_row_keeps_none(
    ups_sandbox: SandboxController, approver: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = JobFactory.create()
    unlabelled_rows(job, 1)

    def disk_full(*args: object, **kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(default_storage, "save", disk_full)

    outcome = job_fetch_labels(job=job, actor=approver)

    assert outcome.problems()[0].endswith("it could not be stored (No space left on device).")
    assert rows_without_label(job).count() == 1


def test_nothing_to_fetch_is_refused(approver: User) -> None:
    job = JobFactory.create()
    ShippedJobRowFactory.create(job=job, label="labels/x.gif")

    with pytest.raises(DomainError) as refused:
        job_fetch_labels(job=job, actor=approver)

    assert refused.value.code == "nothing_to_fetch"
