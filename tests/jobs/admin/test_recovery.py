"""An interrupted job's page: the recovery banner, resume, restart with its warning, decisions."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks

from datasources.models import DataSource
from jobs.models import AuditEntry, Job, JobRow
from jobs.services import restart as restart_module
from jobs.services.cancel import job_cancel
from jobs.services.reconcile import row_decide_unknown
from jobs.states import JobStatus, RowStatus
from tests.fixtures.sources import csv_bytes, order_rows
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.admin.conftest import job_url, make_operator, messages_of, page_action
from tests.jobs.admin.html import count_of, hidden_fields, table_of, text_of, texts_of
from tests.jobs.conftest import as_if_ups_can_no_longer_answer, previewed_job, ship_all
from tests.jobs.test_engine_recovery import crash_then_lapse, crash_when
from ups.client import UpsClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def interrupted(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver_user: User,
    monkeypatch: pytest.MonkeyPatch,
) -> Job:
    """A job of 5 rows whose worker died after UPS shipped row 3: rows 1-2 shipped, 3 unknown."""
    job = previewed_job(orders_csv(5), approver_user)
    with monkeypatch.context() as patch:
        patch.setattr(UpsClient, "send_ship", crash_when(3, before=False))
        return crash_then_lapse(job, approver_user)


@pytest.fixture
def settled(interrupted: Job, ups_sandbox: SandboxController, approver_user: User) -> Job:
    """The interrupted job once a person decided row 3 from UPS's record of it: shipped."""
    row = JobRow.objects.get(job=interrupted, row_number=3)
    (shipment,) = ups_sandbox.ledger(reference=row.reference)
    row_decide_unknown(row=row, actor=approver_user, tracking_number=shipment["tracking_number"])
    return interrupted


def test_banner_explains_where_the_job_stopped_and_offers_three_choices(
    interrupted: Job, approver_client: Client
) -> None:
    page = approver_client.get(job_url(interrupted)).text
    assert count_of(page, "recovery-banner") == 1
    headline = text_of(page, "recovery-headline")
    assert headline.startswith(f"{interrupted} was interrupted at row 3 of 5.")
    assert "Last: row 2 (Customer 2, tracking 1Z" in headline
    assert headline.endswith("3 remaining.")
    assert text_of(page, "recovery-last-error").endswith(
        "1 row has an unknown outcome: resume looks it up at UPS by reference first; where "
        "UPS has no shipment, a person decides whether the parcel shipped, on the job page or "
        "with recover_jobs --decide-row (resume is refused until then)."
    )
    for choice in ("action-resume", "action-restart", "action-cancel"):
        assert count_of(page, choice) == 1
    assert count_of(page, "unknown-row") == 1
    # Row 3 may exist at UPS unrecorded: restart is drawn disabled, and the page says why.
    assert 'data-testid="action-restart"\n  disabled' in page
    assert text_of(page, "action-restart-refusal").startswith(
        "Restart is not available: Row 3 has an unknown outcome: UPS may"
    )
    assert 'data-testid="action-resume"\n  disabled' not in page


def test_restart_is_offered_again_once_the_unknown_row_is_decided(
    settled: Job, approver_client: Client
) -> None:
    page = approver_client.get(job_url(settled)).text
    assert count_of(page, "action-restart") == 1
    assert 'data-testid="action-restart"\n  disabled' not in page
    assert count_of(page, "action-restart-refusal") == 0


def test_resume_finds_the_lost_shipment_and_continues(
    interrupted: Job,
    approver_client: Client,
    approver_user: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = page_action(approver_client, interrupted, "resume_jobs")
    assert response.status_code == 302
    assert len(queued) == 1
    interrupted.refresh_from_db()
    assert interrupted.status == JobStatus.RUNNING
    assert JobRow.objects.get(job=interrupted, row_number=3).status == RowStatus.SHIPPED
    assert AuditEntry.objects.get(job=interrupted, action="job_resumed").actor == approver_user


def test_an_unknown_row_ups_never_saw_waits_for_a_person(
    interrupted: Job, approver_client: Client, ups_sandbox: SandboxController
) -> None:
    ups_sandbox.reset()  # UPS forgets the shipment of row 3: resume cannot settle it alone
    response = page_action(approver_client, interrupted, "resume_jobs")
    page = approver_client.get(response["Location"])
    assert any("UPS has no shipment for row(s) 3" in text for text in messages_of(page))
    assert count_of(page.text, "mark-shipped") == 1

    row = JobRow.objects.get(job=interrupted, row_number=3)
    decide = reverse("admin:jobs_job_unknown_row", args=[interrupted.pk, row.pk])
    refused = approver_client.post(decide, {"decision": "shipped", "tracking_number": ""})
    shown = messages_of(approver_client.get(refused["Location"]))
    assert "Row 3: Enter the tracking number UPS gave this parcel." in shown
    approver_client.post(decide, {"decision": "shipped", "tracking_number": "1z999aa10123456784"})
    row.refresh_from_db()
    assert (row.status, row.tracking_number) == (RowStatus.SHIPPED, "1Z999AA10123456784")


def test_mark_not_shipped_waits_until_ups_can_no_longer_answer(
    interrupted: Job, approver_client: Client
) -> None:
    row = JobRow.objects.get(job=interrupted, row_number=3)
    decide = reverse("admin:jobs_job_unknown_row", args=[interrupted.pk, row.pk])
    response = approver_client.post(decide, {"decision": "not_shipped"})

    shown = messages_of(approver_client.get(response["Location"]))
    assert any(
        text.startswith("Row 3: Row 3's ship request started ")
        and "UPS may still create its shipment" in text
        for text in shown
    )
    row.refresh_from_db()
    assert row.status == RowStatus.UNKNOWN


def test_mark_not_shipped_records_the_shipment_ups_has_instead(
    interrupted: Job, approver_client: Client, ups_sandbox: SandboxController
) -> None:
    # UPS shipped row 3 before the worker died: a person who took it for lost is told.
    row = JobRow.objects.get(job=interrupted, row_number=3)
    as_if_ups_can_no_longer_answer(row)
    decide = reverse("admin:jobs_job_unknown_row", args=[interrupted.pk, row.pk])
    response = approver_client.post(decide, {"decision": "not_shipped"})

    (shipment,) = ups_sandbox.ledger(reference=row.reference)
    shown = messages_of(approver_client.get(response["Location"]))
    assert (
        f"Row 3 was not marked not shipped: UPS has a shipment for its reference "
        f"{row.reference} (tracking {shipment['tracking_number']}), so it is recorded as shipped."
    ) in shown
    row.refresh_from_db()
    assert (row.status, row.tracking_number) == (RowStatus.SHIPPED, shipment["tracking_number"])
    assert Job.objects.get(pk=interrupted.pk).shipped_count == 3


def test_restart_is_refused_while_a_row_has_an_unknown_outcome(
    interrupted: Job, approver_client: Client
) -> None:
    response = page_action(approver_client, interrupted, "restart_job")
    assert response.status_code == 302  # no confirmation page: no choice there could help
    shown = messages_of(approver_client.get(job_url(interrupted)))
    assert any(text.startswith("Row 3 has an unknown outcome: UPS may") for text in shown)
    assert Job.objects.get(pk=interrupted.pk).status == JobStatus.INTERRUPTED
    assert Job.objects.count() == 1


def test_a_row_settled_from_upss_record_gets_its_label_from_ups(
    settled: Job, approver_client: Client
) -> None:
    row = JobRow.objects.get(job=settled, row_number=3)

    assert (row.status, row.label_format) == (RowStatus.SHIPPED, "GIF")
    assert str(row.label.name).endswith(f"{row.reference}.gif")
    assert row.label.read().startswith(b"GIF8")
    [entry] = AuditEntry.objects.filter(row=row, action="label_fetched")
    assert entry.message == f"Label of tracking {row.tracking_number} fetched from UPS."
    page = approver_client.get(job_url(settled)).text
    assert count_of(page, "unlabelled") == 0
    assert count_of(page, "label-link") == 3


def settle_without_label(job: Job, ups_sandbox: SandboxController, user: User) -> JobRow:
    """Settle row 3 as shipped while UPS's Label Recovery fails; return the row."""
    ups_sandbox.set_fault("http_503", endpoint="label")
    row = JobRow.objects.get(job=job, row_number=3)
    (shipment,) = ups_sandbox.ledger(reference=row.reference)
    row_decide_unknown(row=row, actor=user, tracking_number=shipment["tracking_number"])
    row.refresh_from_db()
    assert (row.status, row.label.name) == (RowStatus.SHIPPED, "")
    return row


def test_a_label_ups_did_not_give_is_named_and_fetched_again_from_the_page(
    interrupted: Job,
    ups_sandbox: SandboxController,
    approver_user: User,
    approver_client: Client,
) -> None:
    row = settle_without_label(interrupted, ups_sandbox, approver_user)
    page = approver_client.get(job_url(interrupted)).text
    assert text_of(page, "unlabelled").startswith(
        f"row 3 ({row.tracking_number}): shipped, but ShipOps has no label."
    )
    fetch = reverse("admin:jobs_job_fetch_labels", args=[interrupted.pk])
    assert f'action="{fetch}"' in page

    still_failing = approver_client.post(fetch)
    [why] = messages_of(approver_client.get(job_url(interrupted)))
    ups_sandbox.clear_faults()
    fetched = approver_client.post(fetch)

    assert still_failing["Location"] == job_url(interrupted) + "#rows"
    assert why.startswith("1 row not fetched (3): UPS could not be asked (UPS had a server error")
    assert fetched.status_code == 302
    row.refresh_from_db()
    assert (row.label_format, row.label.read()[:4]) == ("GIF", b"GIF8")
    shown = messages_of(approver_client.get(job_url(interrupted)))
    assert shown == ["1 label fetched from UPS (row 3)."]
    assert count_of(approver_client.get(job_url(interrupted)).text, "unlabelled") == 0
    again = approver_client.post(fetch)
    assert again.status_code == 302
    assert messages_of(approver_client.get(job_url(interrupted))) == [
        f"Every shipped row of {interrupted} has its label."
    ]


def test_fetching_labels_needs_the_change_permission(
    interrupted: Job,
    ups_sandbox: SandboxController,
    approver_user: User,
) -> None:
    settle_without_label(interrupted, ups_sandbox, approver_user)
    viewer = make_operator("vera")
    viewer.user_permissions.remove(Permission.objects.get(codename="change_job"))
    client = Client()
    client.force_login(viewer)

    page = client.get(job_url(interrupted)).text
    refused = client.post(reverse("admin:jobs_job_fetch_labels", args=[interrupted.pk]))

    assert count_of(page, "fetch-labels") == 0
    assert "someone with the “change job” permission can" in text_of(page, "unlabelled")
    assert refused.status_code == 403
    assert JobRow.objects.get(job=interrupted, row_number=3).label.name == ""


def test_a_cancelled_job_shows_its_last_error_without_advice_to_resume(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver_user: User,
    approver_client: Client,
) -> None:
    rows = order_rows(4)
    rows[3][5] = "30305"  # UPS refuses row 3's address
    ups_sandbox.set_fault("reject_address", endpoint="ship", postal_codes=["30305"])
    job = ship_all(previewed_job(orders_csv(4, rows=rows), approver_user), approver_user)
    failed = approver_client.get(job_url(job)).text
    assert "Resume sends the row again as it is." in text_of(failed, "recovery-last-error")

    job_cancel(job=job, actor=approver_user)
    page = approver_client.get(job_url(job)).text

    assert count_of(page, "recovery-banner") == 0
    start = page.index('data-testid="last-error"')
    last_error = page[start : page.index("</div>", start)]
    assert f"</strong> {job.last_error_message}" in last_error
    assert job.last_error_message.startswith("Row 3: ")
    assert "esume" not in last_error
    assert "esume" not in table_of(page, "rows-table")  # row 3's problem: the error alone


def test_restart_warns_about_duplicates_and_needs_a_choice(
    settled: Job, approver_client: Client
) -> None:
    interrupted = settled
    page = page_action(approver_client, interrupted, "restart_job")
    assert page.status_code == 200
    warning = text_of(page.text, "restart-warning")
    assert warning == (
        "Rows 1-3 already have tracking numbers (3 shipments). "
        "Restarting will create duplicate shipments."
    )
    unchosen = approver_client.post(job_url(interrupted), hidden_fields(page.text))
    assert unchosen.status_code == 200
    assert "Choose what happens to the rows that already shipped." in unchosen.text
    assert Job.objects.get(pk=interrupted.pk).status == JobStatus.INTERRUPTED

    response = restart_from_its_page(approver_client, interrupted, choice="duplicate")
    new_job = Job.objects.exclude(pk=interrupted.pk).get()
    assert response["Location"] == job_url(new_job)
    assert Job.objects.get(pk=interrupted.pk).status == JobStatus.CANCELLED
    assert new_job.status == JobStatus.APPROVED
    assert new_job.row_count == 5


def test_restart_names_first_the_rows_it_would_ship_unpreviewed_or_not_at_all(
    settled: Job,
    approver_client: Client,
    approver_user: User,
    write_source: Callable[[str, bytes], Path],
) -> None:
    edited = order_rows(5)
    edited[4][1] = "Dana Changed"  # row 4, after its preview
    del edited[5]  # row 5 is gone
    write_source("orders.csv", csv_bytes(edited))
    said = [
        f"Row 4 changed in the source after {settled} read it: the restart ships it as the "
        "source has it now, without an estimate (nobody previewed that content). To look "
        "first, cancel this job and create a new one instead.",
        "Row 5 is no longer in the source: the restart does not ship it.",
    ]

    page = page_action(approver_client, settled, "restart_job").text
    recovery = approver_client.get(f"/api/jobs/{settled.pk}/recovery").json()
    out = io.StringIO()
    call_command("recover_jobs", restart=settled.pk, user=approver_user.username,
                 confirm_duplicates=True, stdout=out)  # fmt: skip

    assert texts_of(page, "restart-source-change") == said
    assert recovery["restart_source_changes"] == said
    assert [line.strip() for line in out.getvalue().splitlines()][:2] == said
    new_job = Job.objects.exclude(pk=settled.pk).get()
    assert new_job.row_count == 4  # what it said: row 5 does not ship


def test_restart_can_void_the_shipped_rows_first(
    settled: Job, approver_client: Client, ups_sandbox: SandboxController
) -> None:
    restart_from_its_page(approver_client, settled, choice="void")
    voided = JobRow.objects.filter(job=settled, status=RowStatus.VOIDED)
    assert voided.count() == 3
    assert sum(1 for entry in ups_sandbox.ledger() if entry.get("voided")) == 3


def test_a_restart_confirmed_on_a_page_shown_before_a_resume_is_refused(
    settled: Job, approver_client: Client, ups_sandbox: SandboxController
) -> None:
    page = page_action(approver_client, settled, "restart_job")
    assert text_of(page.text, "restart-warning").startswith("Rows 1-3 already have")
    # Meanwhile a colleague resumed the job: its worker shipped row 4, then it failed at row 5.
    Job.objects.filter(pk=settled.pk).update(fencing_token=settled.fencing_token + 1)
    JobRow.objects.filter(job=settled, row_number=4).update(
        status=RowStatus.SHIPPED, tracking_number="1Z999AA10123456793"
    )

    response = approver_client.post(
        job_url(settled), {**hidden_fields(page.text), "choice": "duplicate"}
    )

    assert response.status_code == 302
    shown = messages_of(approver_client.get(job_url(settled)))
    assert f"{settled} changed meanwhile: look at it again." in shown
    assert Job.objects.get(pk=settled.pk).status == JobStatus.INTERRUPTED
    assert Job.objects.count() == 1  # row 4 was never confirmed: nothing shipped again
    assert len(ups_sandbox.ledger()) == 3


def restart_from_its_page(client: Client, job: Job, *, choice: str) -> Any:
    """Open the restart confirmation, choose ``choice`` and post it as the browser would."""
    page = page_action(client, job, "restart_job")
    return client.post(job_url(job), {**hidden_fields(page.text), "choice": choice})


def test_restart_is_refused_without_the_approve_permission(
    settled: Job, operator_client: Client
) -> None:
    interrupted = settled  # with row 3 decided, so that only the permission is missing
    page = operator_client.get(job_url(interrupted)).text
    assert count_of(page, "action-restart-refusal") == 0
    assert 'data-testid="action-restart"\n  disabled' in page
    response = page_action(operator_client, interrupted, "restart_job", post="yes", choice="void")
    assert response.status_code == 302
    assert Job.objects.get(pk=interrupted.pk).status == JobStatus.INTERRUPTED
    assert Job.objects.count() == 1


def test_retry_write_back_completes_the_job(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver_user: User,
    approver_client: Client,
    failing_write_back: dict[str, bool],
    source_root: Path,
) -> None:
    job = ship_all(previewed_job(orders_csv(3), approver_user), approver_user)
    assert job.status == JobStatus.COMPLETED_WITH_WARNINGS
    page = approver_client.get(job_url(job)).text
    assert count_of(page, "action-retry-writeback") == 1
    assert "Not written back: [Errno 28] No space left on device" in page

    still = page_action(approver_client, job, "retry_writeback")
    assert any(
        "still could not be written" in t
        for t in messages_of(approver_client.get(still["Location"]))
    )
    failing_write_back["fail"] = False
    page_action(approver_client, job, "retry_writeback")
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert "1Z" in (source_root / "orders.csv").read_text()


def test_only_approvers_decide_unknown_rows(interrupted: Job, operator_client: Client) -> None:
    page = operator_client.get(job_url(interrupted)).text
    assert count_of(page, "mark-not-shipped") == 0
    assert count_of(page, "decision-needs-approver") == 1
    row = JobRow.objects.get(job=interrupted, row_number=3)
    decide = reverse("admin:jobs_job_unknown_row", args=[interrupted.pk, row.pk])
    response = operator_client.post(decide, {"decision": "not_shipped"})
    shown = messages_of(operator_client.get(response["Location"]))
    assert any("“approve job” permission" in text for text in shown)
    row.refresh_from_db()
    assert row.status == RowStatus.UNKNOWN


@pytest.mark.django_db(transaction=True)
def test_a_restart_from_the_job_page_commits_each_step_before_it_voids(
    settled: Job,
    approver_client: Client,
    ups_sandbox: SandboxController,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Outside a transaction, the restart's hold is visible to colleagues, and the record
    # of each void UPS made stays whatever happens next.
    wrapped: list[bool] = []
    real_void = restart_module.job_void_shipped

    def void(**kwargs: Any) -> list[JobRow]:
        wrapped.append(connection.in_atomic_block)
        return real_void(**kwargs)

    monkeypatch.setattr(restart_module, "job_void_shipped", void)
    restart_from_its_page(approver_client, settled, choice="void")

    assert wrapped == [False]
    assert Job.objects.get(pk=settled.pk).status == JobStatus.CANCELLED
    assert JobRow.objects.filter(job=settled, status=RowStatus.VOIDED).count() == 3


@pytest.mark.parametrize("button", ["_save", "_saveasnew", "_continue"])
def test_a_form_posted_to_the_job_page_is_refused_and_changes_nothing(
    settled: Job, approver_client: Client, button: str
) -> None:
    before = AuditEntry.objects.count()
    response = approver_client.post(job_url(settled), {button: "1", "status": "cancelled"})

    assert response.status_code == 403
    assert (Job.objects.count(), AuditEntry.objects.count()) == (1, before)
    assert Job.objects.get(pk=settled.pk).status == JobStatus.INTERRUPTED
