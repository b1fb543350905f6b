"""A person's "not shipped" on an unknown row never lets a parcel ship twice unnoticed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from datasources.models import DataSource
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.cancel import job_cancel
from jobs.services.reconcile import row_decide_unknown, row_record_late_shipment
from jobs.states import RowStatus
from shipops.errors import DomainError
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import as_if_ups_can_no_longer_answer
from tests.jobs.test_engine_recovery import crashed_job
from ups.config import UpsConfig

pytestmark = pytest.mark.django_db


@pytest.fixture
def unknown_row_3(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., JobRow]:
    """Return a factory: row 3 of a job whose worker died at its ship call, unknown now."""

    def crash(*, ups_got_it: bool) -> JobRow:
        job = crashed_job(orders_csv(4), approver, monkeypatch, at_call=3, before=not ups_got_it)
        return JobRow.objects.get(job=job, row_number=3, status=RowStatus.UNKNOWN)

    return crash


@pytest.fixture
def lost_row(unknown_row_3: Callable[..., JobRow]) -> JobRow:
    """Row 3 of a job whose worker died while its ship request was out (UPS never got it)."""
    return unknown_row_3(ups_got_it=False)


def test_not_shipped_is_refused_while_the_ship_request_may_still_be_answered(
    lost_row: JobRow, approver: User
) -> None:
    with pytest.raises(DomainError) as refused:
        row_decide_unknown(row=lost_row, actor=approver)

    assert refused.value.code == "ups_may_answer"
    longest = UpsConfig.from_settings().longest_ship_call_seconds()
    assert "UPS may still create its shipment until " in refused.value.message
    assert longest - 10 < refused.value.details["seconds"] <= longest
    lost_row.refresh_from_db()
    assert lost_row.status == RowStatus.UNKNOWN


def test_not_shipped_is_refused_when_ups_cannot_be_asked(
    lost_row: JobRow, approver: User, ups_sandbox: SandboxController
) -> None:
    as_if_ups_can_no_longer_answer(lost_row)
    ups_sandbox.set_fault("http_500", endpoint="track", count=10)

    with pytest.raises(DomainError) as refused:
        row_decide_unknown(row=lost_row, actor=approver)

    assert refused.value.code == "reconcile_failed"
    assert refused.value.message.startswith(
        f"Row 3 was not marked not shipped: looking it up at UPS by its reference "
        f"{lost_row.reference} failed"
    )
    lost_row.refresh_from_db()
    assert lost_row.status == RowStatus.UNKNOWN


def test_not_shipped_on_a_cancelled_job_says_a_new_job_ships_it(
    lost_row: JobRow, approver: User
) -> None:
    job_cancel(job=lost_row.job, actor=approver)
    as_if_ups_can_no_longer_answer(lost_row)

    decided = row_decide_unknown(row=JobRow.objects.get(pk=lost_row.pk), actor=approver)

    assert decided.sentence == (
        f"Row 3 marked not shipped (UPS has no shipment for its reference {lost_row.reference}): "
        f"{lost_row.job} will not ship it; a new job of the source will."
    )


def test_a_late_answer_for_a_row_settled_meanwhile_keeps_its_tracking_number(
    lost_row: JobRow, approver: User
) -> None:
    as_if_ups_can_no_longer_answer(lost_row)
    row_decide_unknown(row=lost_row, actor=approver)  # pending again

    recorded = row_record_late_shipment(
        row=lost_row, changes={"tracking_number": "1Z999AA10123456784"}, actor=approver
    )

    assert recorded is False
    kept = AuditEntry.objects.get(job=lost_row.job, action="late_answer_not_recorded")
    assert kept.row_id == lost_row.pk
    assert kept.data == {"tracking_number": "1Z999AA10123456784", "row_status": "pending"}
    assert kept.message == (
        "UPS answered row 3's ship request late, with tracking 1Z999AA10123456784, when the "
        "row was already pending. If the row ships (or shipped) again, this parcel is a second "
        "one: void it at UPS."
    )
    assert Job.objects.get(pk=lost_row.job_id).shipped_count == 2


def test_a_late_answer_for_the_shipment_already_found_by_reference_is_no_second_parcel(
    lost_row: JobRow, approver: User
) -> None:
    JobRow.objects.filter(pk=lost_row.pk).update(
        status=RowStatus.SHIPPED, tracking_number="1Z999AA10123456784"
    )

    recorded = row_record_late_shipment(
        row=lost_row, changes={"tracking_number": "1Z999AA10123456784"}, actor=approver
    )

    assert recorded is False
    assert not AuditEntry.objects.filter(action="late_answer_not_recorded").exists()


@pytest.fixture
def found_row(unknown_row_3: Callable[..., JobRow]) -> JobRow:
    """Row 3 of a job whose worker died after UPS shipped it, before ShipOps recorded it."""
    return unknown_row_3(ups_got_it=True)


def test_shipped_with_a_number_other_than_the_one_ups_has_is_refused(
    found_row: JobRow, approver: User, ups_sandbox: SandboxController
) -> None:
    [at_ups] = ups_sandbox.ledger(reference=found_row.reference)

    with pytest.raises(DomainError) as refused:
        row_decide_unknown(row=found_row, actor=approver, tracking_number="1Z999AA10123456784")

    assert refused.value.code == "tracking_mismatch"
    assert f"with the tracking number {at_ups['tracking_number']}, not 1Z999AA10123456784" in (
        refused.value.message
    )
    found_row.refresh_from_db()
    assert found_row.status == RowStatus.UNKNOWN
    decided = row_decide_unknown(
        row=found_row, actor=approver, tracking_number=at_ups["tracking_number"]
    )
    assert (decided.row.status, decided.row.error_message) == (RowStatus.SHIPPED, "")


def test_shipped_with_another_rows_tracking_number_is_refused(
    found_row: JobRow, approver: User
) -> None:
    row_1 = JobRow.objects.get(job=found_row.job, row_number=1)

    with pytest.raises(DomainError) as refused:
        row_decide_unknown(row=found_row, actor=approver, tracking_number=row_1.tracking_number)

    assert refused.value.code == "tracking_taken"
    assert refused.value.message.startswith(
        f"{row_1.tracking_number} is already the tracking number of {row_1} (key "
    )
    found_row.refresh_from_db()
    assert found_row.status == RowStatus.UNKNOWN
