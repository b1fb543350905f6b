"""Job actions from the job page and the job list: permission-checked, confirmed, audited."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks

from datasources.models import DataSource
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.creation import session_hash
from jobs.session_mode import SESSION_KEY
from jobs.states import JobStatus, RowStatus
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.admin.conftest import job_url, job_with_rows, list_action, messages_of, page_action
from tests.jobs.admin.html import count_of, hidden_fields, text_of
from tests.jobs.conftest import previewed_job

pytestmark = pytest.mark.django_db


def test_preview_from_the_job_page_queues_the_preview_and_audits_the_user(
    operator_client: Client,
    operator: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    job = job_with_rows(5)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = page_action(operator_client, job, "preview_jobs")
    assert response.status_code == 302
    assert response["Location"] == job_url(job)
    assert len(queued) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.PREVIEWING
    entry = AuditEntry.objects.get(job=job, action="preview_started")
    assert entry.actor == operator
    page = operator_client.get(job_url(job))
    assert any(text.startswith(f"{job}: preview started.") for text in messages_of(page))


def test_approve_from_the_job_page_ships_the_previewed_job(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver_user: User,
    approver_client: Client,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    job = previewed_job(orders_csv(3), approver_user)
    page = approver_client.get(job_url(job)).text
    assert count_of(page, "action-approve") == 1
    assert count_of(page, "action-approve-auto") == 1

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = page_action(approver_client, job, "approve_jobs")
    assert response.status_code == 302
    assert len(queued) == 1  # the execution task
    job.refresh_from_db()
    assert (job.status, job.approved_by) == (JobStatus.APPROVED, approver_user)
    assert AuditEntry.objects.get(job=job, action="job_approved").actor == approver_user
    assert approver_client.session.get(SESSION_KEY, "confirm") == "confirm"


def test_approve_from_the_list_asks_first_with_the_cost(
    approver_client: Client, approver_user: User
) -> None:
    job = job_with_rows(4, status=JobStatus.PREVIEWED, estimated_cost_cents=4321, previewed_count=4)
    page = list_action(approver_client, "approve_jobs", [job])
    assert page.status_code == 200
    assert count_of(page.text, "confirmation-page") == 1
    assert "$43.21" in page.text
    assert 'name="post" value="yes"' in page.text
    job.refresh_from_db()
    assert job.status == JobStatus.PREVIEWED

    # "Yes" posts the page's own form back to the list (without the list's "index" field).
    answer = hidden_fields(page.text)
    assert answer["action"] == ["approve_jobs"]
    assert "index" not in answer
    approver_client.post(reverse("admin:jobs_job_changelist"), answer)
    job.refresh_from_db()
    assert job.status == JobStatus.APPROVED


def test_approve_and_switch_to_auto_switches_the_session_first(
    approver_client: Client, approver_user: User
) -> None:
    job = job_with_rows(2, status=JobStatus.PREVIEWED)
    response = page_action(approver_client, job, "approve_jobs_switch_to_auto")
    assert response.status_code == 302
    assert approver_client.session[SESSION_KEY] == "auto"
    job.refresh_from_db()
    assert job.status == JobStatus.APPROVED
    approved = AuditEntry.objects.get(job=job, action="job_approved")
    assert approved.data["switch_to_auto"] is True
    assert AuditEntry.objects.filter(action="mode_switched", actor=approver_user).exists()


@pytest.mark.parametrize("where", ["job page", "job list"])
def test_approve_and_switch_is_refused_while_the_session_runs_a_batch(
    approver_client: Client, where: str
) -> None:
    approver_client.get(reverse("admin:index"))
    key = approver_client.session.session_key
    busy = job_with_rows(1, status=JobStatus.RUNNING, session_hash=session_hash(key))
    job = job_with_rows(2, status=JobStatus.PREVIEWED)
    if where == "job page":
        response = page_action(approver_client, job, "approve_jobs_switch_to_auto")
    else:
        response = list_action(approver_client, "approve_jobs_switch_to_auto", [job])
    # At once, with no confirmation page: approving could only fail.
    assert response.status_code == 302
    shown = messages_of(approver_client.get(response["Location"]))
    assert any(f"while {busy} (started in this session) is running" in text for text in shown)
    job.refresh_from_db()
    assert job.status == JobStatus.PREVIEWED
    assert approver_client.session.get(SESSION_KEY, "confirm") == "confirm"


def test_people_without_the_approve_permission_cannot_approve(
    operator_client: Client,
) -> None:
    job = job_with_rows(2, status=JobStatus.PREVIEWED)
    page = operator_client.get(job_url(job)).text
    assert 'data-testid="action-approve"\n  disabled' in page
    assert count_of(page, "approve-permission-note") == 1

    for send in (
        lambda: page_action(operator_client, job, "approve_jobs"),
        lambda: list_action(operator_client, "approve_jobs", [job], post="yes"),
        lambda: page_action(operator_client, job, "approve_jobs_switch_to_auto"),
    ):
        response = send()
        assert response.status_code == 302
        shown = messages_of(operator_client.get(response["Location"]))
        assert any("ask an administrator for the “approve job” permission" in t for t in shown)
    job.refresh_from_db()
    assert job.status == JobStatus.PREVIEWED
    assert operator_client.session.get(SESSION_KEY, "confirm") == "confirm"


def test_a_refused_action_shows_the_services_sentence(approver_client: Client) -> None:
    job = job_with_rows(2, status=JobStatus.DRAFT)
    response = page_action(approver_client, job, "approve_jobs")
    page = approver_client.get(response["Location"])
    assert f"{job} has not been previewed: preview it before approving." in messages_of(page)


def test_cancel_asks_first_and_keeps_shipped_rows(operator_client: Client, operator: User) -> None:
    job = job_with_rows(5, status=JobStatus.RUNNING, shipped_count=2)
    JobRow.objects.filter(job=job, row_number__lte=2).update(
        status=RowStatus.SHIPPED, tracking_number="1Z999AA10123456784"
    )
    page = page_action(operator_client, job, "cancel_jobs")
    assert page.status_code == 200
    assert (
        "3 rows that have not shipped will be cancelled; 2 rows that shipped are kept." in page.text
    )
    assert 'name="CHANGE_FORM-action" value="cancel_jobs"' in page.text
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING

    answer = hidden_fields(page.text)
    assert answer["CHANGE_FORM-action"] == ["cancel_jobs"]
    response = operator_client.post(job_url(job), answer)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    statuses = set(JobRow.objects.filter(job=job).values_list("status", flat=True))
    assert statuses == {RowStatus.SHIPPED, RowStatus.CANCELLED}
    assert AuditEntry.objects.get(job=job, action="job_cancelled").actor == operator


def test_list_actions_report_each_job(operator_client: Client) -> None:
    draft = job_with_rows(2)
    done = job_with_rows(2, status=JobStatus.COMPLETED)
    response = list_action(operator_client, "cancel_jobs", [draft, done], post="yes")
    shown = messages_of(operator_client.get(response["Location"]))
    assert f"{draft} cancelled; none of its rows had shipped." in shown
    assert f"{done} is already completed." in shown


def list_of(html: str, testid: str) -> str:
    """Return the HTML of the confirmation page's list with ``data-testid=testid``."""
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</ul>", start)]


def test_a_confirmation_posted_to_a_filtered_list_names_the_jobs_the_filter_dropped(
    operator_client: Client,
) -> None:
    first = job_with_rows(2, status=JobStatus.RUNNING)
    second = job_with_rows(2, status=JobStatus.RUNNING)
    filtered = reverse("admin:jobs_job_changelist") + "?status__exact=running"
    page = operator_client.post(
        filtered,
        {"action": "cancel_jobs", "_selected_action": [first.pk, second.pk], "index": "0"},
    )
    assert "Cancel 2 jobs?" in page.text
    # Meanwhile the second job finished: the filtered list no longer shows it.
    Job.objects.filter(pk=second.pk).update(status=JobStatus.COMPLETED)

    response = operator_client.post(filtered, hidden_fields(page.text))

    shown = messages_of(operator_client.get(response["Location"]))
    assert shown == [
        f"{first} cancelled; none of its rows had shipped.",
        f"{second} no longer matches the list's filters, so nothing was done to it: clear the "
        "filters and select it again.",
    ]
    assert Job.objects.get(pk=second.pk).status == JobStatus.COMPLETED


def test_cancel_from_the_list_says_first_which_jobs_it_will_not_cancel(
    operator_client: Client,
) -> None:
    running = job_with_rows(3, status=JobStatus.RUNNING)
    done = job_with_rows(2, status=JobStatus.COMPLETED)
    warned = job_with_rows(2, status=JobStatus.COMPLETED_WITH_WARNINGS)
    page = list_action(operator_client, "cancel_jobs", [running, done, warned])

    assert page.status_code == 200
    assert "Cancel 1 of the 3 selected jobs?" in page.text
    taken = list_of(page.text, "confirmation-jobs")
    assert f">{running}</a>" in taken
    assert "3 rows that have not shipped will be cancelled" in taken
    assert text_of(page.text, "confirmation-refused-heading") == (
        "Will not be cancelled (they stay as they are):"
    )
    refused = list_of(page.text, "confirmation-refused")
    assert f"{done} is already completed." in refused
    assert f"{warned} is already completed with warnings." in refused
    assert f">{running}</a>" not in refused

    # "Yes" cancels the one job it named, and says nothing about the others.
    answer = hidden_fields(page.text)
    assert answer["_selected_action"] == [str(running.pk)]
    response = operator_client.post(reverse("admin:jobs_job_changelist"), answer)
    shown = messages_of(operator_client.get(response["Location"]))
    assert shown == [f"{running} cancelled; none of its rows had shipped."]
    statuses = Job.objects.filter(pk__in=[running.pk, done.pk, warned.pk]).order_by("pk")
    assert list(statuses.values_list("status", flat=True)) == [
        JobStatus.CANCELLED,
        JobStatus.COMPLETED,
        JobStatus.COMPLETED_WITH_WARNINGS,
    ]


def test_cancel_from_the_list_offers_no_confirmation_when_no_job_can_be_cancelled(
    operator_client: Client,
) -> None:
    done = job_with_rows(2, status=JobStatus.COMPLETED)
    cancelled = job_with_rows(2, status=JobStatus.CANCELLED)
    response = list_action(operator_client, "cancel_jobs", [done, cancelled])

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:jobs_job_changelist")
    summary, *reasons = messages_of(operator_client.get(response["Location"]))
    assert summary == "None of the 2 selected jobs can be cancelled; nothing changed."
    assert (len(reasons), set(reasons)) == (
        2,
        {f"{done} is already completed.", f"{cancelled} is already cancelled."},
    )
    assert not AuditEntry.objects.filter(action="job_cancelled").exists()


@pytest.mark.parametrize("action", ["approve_jobs", "cancel_jobs"])
def test_a_confirmation_page_costs_the_same_queries_for_2_jobs_or_12(
    approver_client: Client, django_assert_num_queries: DjangoAssertNumQueries, action: str
) -> None:
    few = [job_with_rows(2, status=JobStatus.PREVIEWED) for _ in range(2)]
    many = few + [job_with_rows(2, status=JobStatus.PREVIEWED) for _ in range(10)]
    few[1].rows.update(is_valid=False)  # refused: the page says why, as for the others
    list_action(approver_client, action, few)  # warm the session and permission caches

    with CaptureQueriesContext(connection) as for_few:
        assert list_action(approver_client, action, few).status_code == 200
    with django_assert_num_queries(len(for_few)):
        assert list_action(approver_client, action, many).status_code == 200


def test_approve_from_the_list_says_first_which_jobs_it_will_not_approve(
    approver_client: Client,
) -> None:
    ready = job_with_rows(
        2, status=JobStatus.PREVIEWED, estimated_cost_cents=2002, previewed_count=2
    )
    draft = job_with_rows(2, status=JobStatus.DRAFT)
    done = job_with_rows(2, status=JobStatus.COMPLETED)
    page = list_action(approver_client, "approve_jobs", [ready, draft, done])

    assert page.status_code == 200
    assert "Approve 1 of the 3 selected jobs?" in page.text
    assert "$20.02" in list_of(page.text, "confirmation-jobs")
    refused = list_of(page.text, "confirmation-refused")
    assert f"{draft} has not been previewed: preview it before approving." in refused
    assert (
        f"{done} is completed: only previewed jobs (and drafts in auto mode) can be approved."
        in refused
    )
    assert hidden_fields(page.text)["_selected_action"] == [str(ready.pk)]

    none_left = list_action(approver_client, "approve_jobs", [done])
    assert none_left.status_code == 302
    assert count_of(approver_client.get(none_left["Location"]).text, "confirm-button") == 0
    assert Job.objects.get(pk=done.pk).status == JobStatus.COMPLETED


def test_exclude_rows_with_errors_makes_the_job_approvable(
    approver_client: Client,
) -> None:
    job = job_with_rows(4, status=JobStatus.PREVIEWED, invalid_count=1)
    JobRow.objects.filter(job=job, row_number=2).update(
        is_valid=False, errors=[{"column": "zip", "field": "postal_code", "message": "Bad zip."}]
    )
    page = approver_client.get(job_url(job)).text
    assert count_of(page, "action-exclude-invalid") == 1
    assert count_of(page, "preview-rows-with-errors") == 1
    # Approve is shown, but greyed with the reason, as the service would refuse it.
    assert 'data-testid="action-approve"\n  disabled' in page
    assert text_of(page, "action-approve-refusal") == (
        f"Approve is not available: {job} has 1 row with errors: exclude or fix it before "
        "approving."
    )
    page_action(approver_client, job, "exclude_invalid_rows")
    assert JobRow.objects.get(job=job, row_number=2).status == RowStatus.SKIPPED
    assert count_of(approver_client.get(job_url(job)).text, "action-approve-refusal") == 0
    page_action(approver_client, job, "approve_jobs")
    job.refresh_from_db()
    assert job.status == JobStatus.APPROVED


def test_actions_need_the_job_page_to_name_the_job(approver_client: Client) -> None:
    job = job_with_rows(2, status=JobStatus.PREVIEWED)
    other = job_with_rows(2, status=JobStatus.PREVIEWED)
    response = approver_client.post(
        job_url(job), {"CHANGE_FORM-action": "approve_jobs", "_selected_action": str(other.pk)}
    )
    assert response.status_code == 400
    assert Job.objects.get(pk=other.pk).status == JobStatus.PREVIEWED


def test_a_plain_post_to_the_job_page_changes_nothing(approver_client: Client) -> None:
    job = job_with_rows(2, status=JobStatus.PREVIEWED)
    response = approver_client.post(job_url(job), {"status": "completed", "_save": "Save"})
    assert response.status_code == 403
    assert Job.objects.get(pk=job.pk).status == JobStatus.PREVIEWED


@pytest.mark.django_db(transaction=True)
def test_an_approval_the_queue_refuses_shows_the_reason_not_an_error_page(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver_user: User,
    approver_client: Client,
    broker_down: None,
) -> None:
    job = previewed_job(orders_csv(2), approver_user)
    response = page_action(approver_client, job, "approve_jobs")

    assert response.status_code == 302
    shown = messages_of(approver_client.get(response["Location"]))
    assert [text for text in shown if "task queue" in text] == [
        f"Job {job.pk}: The task queue could not take the job's shipping task (ConnectionError; "
        "the log has the details), so it did not start. It is interrupted: resume it once the "
        "queue works."
    ]
    assert Job.objects.get(pk=job.pk).status == JobStatus.INTERRUPTED


def test_approving_a_job_never_rated_says_its_cost_is_not_known_rather_than_0(
    approver_client: Client,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    # An auto-mode job with errors stays a draft; excluded, it is approved without a preview.
    job = job_with_rows(3, status=JobStatus.DRAFT, mode="auto", skipped_count=1)
    JobRow.objects.filter(job=job).update(estimated_cost_cents=None, warnings=[])
    JobRow.objects.filter(job=job, row_number=3).update(status=RowStatus.SKIPPED)

    page = list_action(approver_client, "approve_jobs", [job])
    assert "Draft: 2 rows, not rated in auto mode, 0 with warnings." in html.unescape(page.text)
    assert "$0.00" not in page.text

    with django_capture_on_commit_callbacks(execute=False):
        page_action(approver_client, job, "approve_jobs")
    shown = messages_of(approver_client.get(job_url(job)))
    assert f"{job} approved: shipping 2 rows (not rated in auto mode)." in shown


def test_cancelling_one_row_says_row_and_has(operator_client: Client) -> None:
    job = job_with_rows(2, status=JobStatus.RUNNING, shipped_count=1)
    JobRow.objects.filter(job=job, row_number=1).update(
        status=RowStatus.SHIPPED, tracking_number="1Z999AA10123456784"
    )
    page = page_action(operator_client, job, "cancel_jobs")
    assert "1 row that has not shipped will be cancelled; 1 row that shipped is kept." in page.text
