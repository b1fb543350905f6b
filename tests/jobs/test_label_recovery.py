"""Shipped rows without a label get it from UPS's Label Recovery; what UPS will not give is said."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import OperationalError

from datasources.models import DataSource
from jobs.models import AuditEntry, Job, JobRow
from jobs.selectors import rows_without_label
from jobs.services import label_recovery, reconcile
from jobs.services.label_recovery import (
    job_fetch_labels,
    label_client,
    row_fetch_label,
    rows_fetch_labels_quietly,
)
from jobs.services.reconcile import row_decide_unknown
from jobs.states import RowStatus
from shipops.errors import DomainError
from tests.factories import JobFactory, ShippedJobRowFactory
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.test_engine_failures import resume_and_check
from tests.jobs.test_engine_recovery import crashed_job
from tests.ups.conftest import shipment
from ups.client import UpsClient

pytestmark = pytest.mark.django_db

UNKNOWN_TO_UPS = "1Z999AA10123456784"


def unlabelled_rows(job: Job, count: int, first: int = 1) -> list[JobRow]:
    """``count`` rows shipped at the sandbox, recorded without their labels."""
    client = UpsClient()
    rows = []
    for number in range(first, first + count):
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


def labels_on_disk(settings: LazySettings) -> list[str]:
    return sorted(path.name for path in Path(settings.MEDIA_ROOT).rglob("*.gif"))


def test_every_row_without_a_label_is_asked_and_one_ups_does_not_know_is_said(
    ups_sandbox: SandboxController, approver: User
) -> None:
    job = JobFactory.create()
    first, second = unlabelled_rows(job, 2)
    typed = ShippedJobRowFactory.create(job=job, row_number=3, tracking_number=UNKNOWN_TO_UPS)
    # Not a number UPS can track at all: said for its row, and the next row is still asked.
    garbled = ShippedJobRowFactory.create(job=job, row_number=0, tracking_number="1Z-NOT-A-NUMBER")

    done, problems = job_fetch_labels(job=job, actor=approver).sentences()

    assert done == "2 labels fetched from UPS (rows 1, 2)."
    assert problems[1:] == [
        f"Row 3 ({UNKNOWN_TO_UPS}): no label: UPS does not know the tracking number "
        f"{UNKNOWN_TO_UPS}."
    ]
    assert problems[0].startswith("Row 0 (1Z-NOT-A-NUMBER): no label: ")
    assert list(rows_without_label(job_id=job.pk)) == [garbled, typed]
    for row in (first, second):
        row.refresh_from_db()
        assert row.label.read().startswith(b"GIF8")
    entries = AuditEntry.objects.filter(job=job, action="label_fetched")
    assert {entry.row_id for entry in entries} == {first.pk, second.pk}
    assert {entry.actor_id for entry in entries} == {approver.pk}
    [said] = AuditEntry.objects.filter(row=typed, action="label_not_found")
    assert said.message.startswith(f"No label from UPS for tracking {UNKNOWN_TO_UPS}: ")


def test_a_number_ups_has_under_another_reference_gets_no_label(
    ups_sandbox: SandboxController, approver: User, settings: LazySettings
) -> None:
    job = JobFactory.create()
    [other] = unlabelled_rows(job, 1)
    JobRow.objects.filter(pk=other.pk).update(label="labels/its-own.gif")
    # A person pasted the other parcel's number onto this row.
    pasted = ShippedJobRowFactory.create(
        job=job, row_number=2, tracking_number=other.tracking_number
    )

    outcome = job_fetch_labels(job=job, actor=approver)

    assert outcome.fetched == []
    [(number, _, why)] = outcome.not_found
    assert number == 2
    assert why.startswith(f"UPS has {other.tracking_number} under another reference than")
    assert JobRow.objects.get(pk=pasted.pk).label.name == ""
    assert labels_on_disk(settings) == []
    assert ups_sandbox.calls("label") == 0


def test_rows_ups_had_no_label_for_are_asked_after_the_others(
    ups_sandbox: SandboxController, approver: User
) -> None:
    job = JobFactory.create()
    ShippedJobRowFactory.create(job=job, row_number=1, tracking_number=UNKNOWN_TO_UPS)
    job_fetch_labels(job=job, actor=approver)
    [later] = unlabelled_rows(job, 1, first=2)
    asked_before = len(ups_sandbox.requests("track"))

    job_fetch_labels(job=job, actor=approver)

    paths = [call["path"] for call in ups_sandbox.requests("track")[asked_before:]]
    assert [path.rsplit("/", 1)[1] for path in paths] == [later.tracking_number, UNKNOWN_TO_UPS]


def test_when_time_is_up_the_rows_left_are_said(
    ups_sandbox: SandboxController, approver: User
) -> None:
    job = JobFactory.create()
    unlabelled_rows(job, 2)

    outcome = job_fetch_labels(job=job, actor=approver, budget_seconds=0)

    assert (outcome.fetched, outcome.unasked) == ([], [1, 2])
    assert outcome.sentences()[1] == [
        "2 rows not fetched (1, 2): time was up; fetch again to ask UPS for them."
    ]
    assert job_fetch_labels(job=job, actor=approver).fetched == [1, 2]


def test_when_ups_cannot_be_asked_one_sentence_says_so_and_nothing_is_stored(
    ups_sandbox: SandboxController, approver: User, settings: LazySettings
) -> None:
    job = JobFactory.create()
    unlabelled_rows(job, 3)
    ups_sandbox.set_fault("http_503", endpoint="label")

    outcome = job_fetch_labels(job=job, actor=approver)

    assert (outcome.fetched, outcome.unasked) == ([], [1, 2, 3])
    [problem] = outcome.sentences()[1]
    assert problem.startswith("3 rows not fetched (1, 2, 3): UPS could not be asked (")
    assert ups_sandbox.calls("label") == 1  # one try: the first failure stops the asking
    assert rows_without_label(job_id=job.pk).count() == 3
    assert labels_on_disk(settings) == []


def test_a_row_voided_or_labelled_meanwhile_keeps_its_state_and_no_file_is_left(
    ups_sandbox: SandboxController,
    approver: User,
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = JobFactory.create()
    labelled, voided = unlabelled_rows(job, 2)
    stale = JobRow.objects.get(pk=labelled.pk)  # read before the other fetch
    client = label_client()
    assert row_fetch_label(row=labelled, actor=approver, client=client)
    kept = str(JobRow.objects.get(pk=labelled.pk).label.name)
    recover = UpsClient.recover_label

    def void_while_ups_answers(self: UpsClient, *args: Any, **kwargs: Any) -> Any:
        JobRow.objects.filter(pk=voided.pk).update(status=RowStatus.VOIDED)
        return recover(self, *args, **kwargs)

    assert not row_fetch_label(row=stale, actor=approver, client=client)
    monkeypatch.setattr(UpsClient, "recover_label", void_while_ups_answers)
    assert not row_fetch_label(row=voided, actor=approver, client=client)

    assert JobRow.objects.get(pk=labelled.pk).label.name == kept
    assert JobRow.objects.get(pk=voided.pk).label.name == ""
    assert labels_on_disk(settings) == [Path(kept).name]
    assert AuditEntry.objects.filter(job=job, action="label_fetched").count() == 1


def test_a_label_that_cannot_be_stored_or_recorded_is_said_and_no_file_is_left(
    ups_sandbox: SandboxController,
    approver: User,
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = JobFactory.create()
    unlabelled_rows(job, 1)

    def fails(error: Exception) -> Any:
        def fail(*args: object, **kwargs: object) -> Any:
            raise error

        return fail

    with monkeypatch.context() as patch:
        patch.setattr(default_storage, "save", fails(OSError(28, "No space left on device")))
        disk_full = job_fetch_labels(job=job, actor=approver)
    with monkeypatch.context() as patch:
        patch.setattr(label_recovery, "audit_record", fails(OperationalError("database is locked")))
        locked = job_fetch_labels(job=job, actor=approver)

    assert disk_full.why_unasked == (
        "a label could not be stored (No space left on device). Try again later."
    )
    assert (
        locked.why_unasked == "a label could not be recorded (OperationalError). Try again later."
    )
    assert rows_without_label(job_id=job.pk).count() == 1
    assert labels_on_disk(settings) == []


def test_a_fetch_after_a_decision_never_undoes_it(
    ups_sandbox: SandboxController,
    approver: User,
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = JobFactory.create()
    [row] = unlabelled_rows(job, 1)

    def locked(*args: object, **kwargs: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(label_recovery, "audit_record", locked)

    rows_fetch_labels_quietly(rows=[row], actor=approver)  # logs, raises nothing

    assert ups_sandbox.calls("label") == 1  # the label came, and could not be kept
    assert JobRow.objects.get(pk=row.pk).status == RowStatus.SHIPPED
    assert JobRow.objects.get(pk=row.pk).label.name == ""
    assert labels_on_disk(settings) == []


def test_a_resume_whose_label_fetch_fails_still_ships_the_rest(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    six_orders = orders_csv(6)
    job = crashed_job(six_orders, approver, monkeypatch, at_call=4, before=False)
    ups_sandbox.set_fault("timeout", endpoint="label", hold_seconds=3)
    monkeypatch.setattr(label_recovery, "FETCH_READ_TIMEOUT", 0.5)

    resume_and_check(job, approver, ups_sandbox, six_orders, source_root)

    row = JobRow.objects.get(job=job, row_number=4)
    assert (row.status, row.label.name) == (RowStatus.SHIPPED, "")
    assert ups_sandbox.calls("label") == 1  # one try, then the resume went on


def test_nothing_to_fetch_is_refused(approver: User) -> None:
    job = JobFactory.create()
    ShippedJobRowFactory.create(job=job, label="labels/x.gif")

    with pytest.raises(DomainError) as refused:
        job_fetch_labels(job=job, actor=approver)

    assert refused.value.code == "nothing_to_fetch"


def test_a_number_a_person_typed_that_ups_did_not_confirm_gets_no_label_by_itself(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker died before row 3's request left: UPS has nothing under its reference.
    job = crashed_job(orders_csv(6), approver, monkeypatch, at_call=3, before=True)
    row = JobRow.objects.get(job=job, row_number=3)
    somebody_elses = UpsClient().ship(shipment("ANOTHER-PARCEL")).tracking_number
    monkeypatch.setattr(reconcile, "_refuse_while_ups_may_answer", lambda row: None)

    row_decide_unknown(row=row, actor=approver, tracking_number=somebody_elses)

    row.refresh_from_db()
    assert (row.status, row.tracking_number, row.label.name) == ("shipped", somebody_elses, "")
    assert ups_sandbox.calls("label") == 0
