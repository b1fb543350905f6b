"""The job page: the preview table, live progress, rows, audit trail, and constant query counts."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from datasources.models import DataSource
from jobs.models import JobRow
from jobs.services.creation import job_create
from jobs.states import JobStatus, RowStatus
from shipops.money import format_cents
from tests.factories import AuditEntryFactory
from tests.fixtures.sources import order_rows
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.admin.conftest import cancelled_with_a_row_out, job_url, job_with_rows
from tests.jobs.admin.html import count_of, table_of, table_rows, text_of
from tests.jobs.conftest import as_if_ups_can_no_longer_answer, previewed_job

pytestmark = pytest.mark.django_db


def test_preview_table_shows_twenty_rows_then_the_rest_and_the_totals(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver_user: User,
    approver_client: Client,
) -> None:
    job = previewed_job(orders_csv(23), approver_user)
    page = approver_client.get(job_url(job)).text

    assert count_of(page, "preview-row") == 20
    assert "Customer 20" in page
    assert "Customer 21" not in table_of(page, "preview-table")
    assert text_of(page, "preview-more") == "... and 3 more"
    assert text_of(page, "preview-total-rows") == "23"
    total = JobRow.objects.filter(job=job).aggregate(total=Sum("estimated_cost_cents"))["total"]
    assert total > 0
    assert text_of(page, "preview-total-cost") == format_cents(total)
    assert text_of(page, "preview-rows-with-warnings") == str(job.warning_count)
    headers = re.findall(r"<th scope=\"col\"[^>]*>([^<]*)</th>", table_of(page, "preview-table"))
    assert headers == ["#", "Recipient", "City, State", "Service", "Est. Cost", "Warnings"]
    assert "Atlanta, GA" in page
    assert "UPS Ground" in page


def test_warnings_are_a_count_that_expands_to_their_messages(approver_client: Client) -> None:
    job = job_with_rows(8, status=JobStatus.PREVIEWED)
    table = table_of(approver_client.get(job_url(job)).text, "preview-table")
    assert table.count('data-testid="warning-count">1<') == 2  # rows 4 and 8
    assert "<details" in table
    assert "Residential address." in table


def test_a_row_with_errors_and_no_warning_counts_its_errors_only(approver_client: Client) -> None:
    job = job_with_rows(2, status=JobStatus.PREVIEWED)
    errors = [{"column": "zip", "field": "postal_code", "message": "Bad zip."}]
    JobRow.objects.filter(job=job, row_number=1).update(is_valid=False, errors=errors)
    table = table_of(approver_client.get(job_url(job)).text, "preview-table")
    summary = table.split('data-testid="warning-count">')[1].split("</summary>")[0]
    assert summary == ' <span class="error-text">1 error</span>'  # not "0 + 1 error"


def test_a_row_with_errors_shows_the_place_and_service_its_source_gives(
    orders_csv: Callable[..., DataSource], approver_user: User, approver_client: Client
) -> None:
    rows = order_rows(3)
    rows[2][3:6] = ["  Savannah ", "ga", "3140"]  # row 2: not a ZIP code
    rows[2][8] = "2nd Day Air"
    rows[3][4:6] = ["Georgia", "3140"]  # row 3: not a ZIP code, nor a UPS service
    rows[3][8] = "Teleport"
    job = job_create(source=orders_csv(3, rows=rows), actor=approver_user)

    lines = table_rows(approver_client.get(job_url(job)).text, 'data-testid="preview-table"')

    assert [line[:4] for line in lines] == [
        ["1", "Customer 1", "Atlanta, GA", "UPS Ground"],
        ["2", "Customer 2", "Savannah, GA", "UPS 2nd Day Air"],
        ["3", "Customer 3", "Atlanta, GA", "—"],
    ]
    assert "Teleport" in lines[2][5]  # the error says what the row asked for


def test_a_row_with_errors_is_listed_as_having_errors_not_as_pending(
    approver_client: Client,
) -> None:
    job = job_with_rows(3, status=JobStatus.PREVIEWED)
    errors = [{"column": "zip", "field": "postal_code", "message": "Bad zip."}]
    JobRow.objects.filter(job=job, row_number=2).update(is_valid=False, errors=errors)

    rows = table_rows(approver_client.get(job_url(job)).text, 'data-testid="rows-table"')

    assert [(row[0], row[3]) for row in rows] == [
        ("1", "Pending"),
        ("2", "Has errors"),
        ("3", "Pending"),
    ]
    assert JobRow.objects.get(job=job, row_number=2).status == RowStatus.PENDING  # as stored


def test_the_rows_with_errors_have_a_tab_of_their_own(approver_client: Client) -> None:
    job = job_with_rows(3, status=JobStatus.PREVIEWED)
    errors = [{"column": "zip", "field": "postal_code", "message": "Bad zip."}]
    JobRow.objects.filter(job=job, row_number=2).update(is_valid=False, errors=errors)

    page = approver_client.get(job_url(job)).text
    tab = approver_client.get(job_url(job) + "?rows_status=has_errors").text

    pending = approver_client.get(job_url(job) + "?rows_status=pending").text

    # Apart: a row with errors is not counted or listed as pending.
    assert text_of(page, "row-tab-pending") == "Pending (2)"
    assert text_of(page, "row-tab-has_errors") == "Has errors (1)"
    assert text_of(page, "row-tab-all") == "All (3)"
    assert [row[0] for row in table_rows(tab, 'data-testid="rows-table"')] == ["2"]
    assert [row[0] for row in table_rows(pending, 'data-testid="rows-table"')] == ["1", "3"]
    assert 'aria-current="true">Has errors (1)' in tab
    assert f"job__id__exact={job.pk}&amp;status=has_errors" in tab  # the rows list, same filter


def test_a_draft_job_says_it_is_not_rated_yet(approver_client: Client) -> None:
    job = job_with_rows(3, status=JobStatus.DRAFT)
    page = approver_client.get(job_url(job)).text
    assert "Not rated yet" in page
    assert 'data-testid="action-preview"' in page
    assert 'data-testid="action-approve"' not in page


@pytest.mark.parametrize("status", [JobStatus.PREVIEWING, JobStatus.RUNNING, JobStatus.APPROVED])
def test_live_jobs_poll_their_progress_json(approver_client: Client, status: str) -> None:
    job = job_with_rows(10, status=status, previewed_count=4, shipped_count=0)
    page = approver_client.get(job_url(job)).text
    progress_url = reverse("admin:jobs_job_progress", args=[job.pk])
    assert f'data-progress-url="{progress_url}"' in page
    assert "jobs/progress.js" in page
    assert 'data-testid="job-progress"' in page


def test_finished_jobs_do_not_poll(approver_client: Client) -> None:
    job = job_with_rows(4, status=JobStatus.COMPLETED, shipped_count=4)
    page = approver_client.get(job_url(job)).text
    assert "data-progress-url" not in page
    assert 'aria-valuenow="100"' in page
    assert text_of(page, "job-progress-text") == "4 of 4 rows shipped"


def test_progress_json_reports_the_counters(approver_client: Client) -> None:
    job = job_with_rows(10, status=JobStatus.RUNNING, shipped_count=3, failed_count=1)
    response = approver_client.get(reverse("admin:jobs_job_progress", args=[job.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response.json() == {
        "job": job.pk,
        "status": "running",
        "status_label": "Running",
        "done": 4,
        "total": 10,
        "percent": 40,
        "shipped": 3,
        "failed": 1,
        "text": "3 of 10 rows shipped, 1 failed",
        "live": True,
        "awaiting_ups": 0,
    }


def test_a_stopped_job_follows_a_row_ups_may_still_answer(approver_client: Client) -> None:
    job, row = cancelled_with_a_row_out()
    progress_url = reverse("admin:jobs_job_progress", args=[job.pk])
    page = approver_client.get(job_url(job)).text
    assert f'data-progress-url="{progress_url}"' in page
    assert 'data-awaiting-ups="1"' in page
    assert text_of(page, "job-live") == "Following 1 row UPS may still ship"
    assert approver_client.get(progress_url).json()["awaiting_ups"] == 1

    as_if_ups_can_no_longer_answer(row)
    page = approver_client.get(job_url(job)).text
    assert "data-progress-url" not in page
    assert 'data-testid="job-live"' not in page
    assert approver_client.get(progress_url).json() | {"text": ""} == {
        "job": job.pk,
        "status": "cancelled",
        "status_label": "Cancelled",
        "done": 2,
        "total": 5,
        "percent": 40,
        "shipped": 2,
        "failed": 0,
        "text": "",
        "live": False,
        "awaiting_ups": 0,
    }


def test_a_settled_row_is_not_awaited(approver_client: Client) -> None:
    job, _ = cancelled_with_a_row_out(status=RowStatus.SHIPPED)
    page = approver_client.get(job_url(job)).text
    assert "data-progress-url" not in page


def test_the_cost_column_marks_estimates_and_leaves_out_rows_not_to_be_bought(
    approver_client: Client,
) -> None:
    job, _ = cancelled_with_a_row_out()
    # A voided shipment keeps its row's first charge, but UPS does not charge it.
    JobRow.objects.filter(job=job, row_number=2).update(status=RowStatus.VOIDED)
    table = table_of(approver_client.get(job_url(job)).text, "rows-table")
    costs = re.findall(r'data-testid="row-cost">([^<]*)<', table)
    assert costs == ["$15.00", "voided", "est. $10.03", "—", "—"]


def test_progress_json_of_an_unknown_job_is_a_json_404(approver_client: Client) -> None:
    response = approver_client.get(reverse("admin:jobs_job_progress", args=[999999]))
    assert response.status_code == 404
    assert response.json()["message"] == "There is no job 999999."


def test_an_unknown_job_id_redirects_with_a_message(approver_client: Client) -> None:
    response = approver_client.get(reverse("admin:jobs_job_change", args=[999999]), follow=True)
    assert response.status_code == 200
    assert "doesn\N{RIGHT SINGLE QUOTATION MARK}t exist" in response.text


def test_rows_are_paginated_and_filtered_by_status(approver_client: Client) -> None:
    job = job_with_rows(60, status=JobStatus.RUNNING)
    JobRow.objects.filter(job=job, row_number__lte=5).update(
        status=RowStatus.SHIPPED, tracking_number="1Z999AA10123456784"
    )
    page = approver_client.get(job_url(job)).text
    rows = table_of(page, "rows-table")
    assert rows.count('data-testid="job-row"') == 25
    assert 'data-testid="rows-next"' in page
    assert "All (60)" in page
    assert "Shipped (5)" in page
    assert "Pending (55)" in page

    second = approver_client.get(job_url(job) + "?rows_page=3").text
    assert table_of(second, "rows-table").count('data-testid="job-row"') == 10

    shipped = approver_client.get(job_url(job) + "?rows_status=shipped").text
    table = table_of(shipped, "rows-table")
    assert table.count('data-testid="job-row"') == 5
    assert table.count('data-testid="tracking-number"') == 5
    changelist = reverse("admin:jobs_jobrow_changelist")
    assert f"{changelist}?job__id__exact={job.pk}&amp;status=shipped" in shipped

    for bad in ["?rows_page=abc", "?rows_page=999", "?rows_status=nonsense"]:
        assert approver_client.get(job_url(job) + bad).status_code == 200


def test_audit_trail_shows_the_latest_entries_and_links_to_all(approver_client: Client) -> None:
    job = job_with_rows(2)
    for number in range(15):
        AuditEntryFactory.create(job=job, action="note", message=f"Entry {number}.")
    page = approver_client.get(job_url(job)).text
    assert page.count('data-testid="audit-entry"') == 10
    assert "Entry 14." in page
    assert "Entry 4." not in page
    assert f"?job__id__exact={job.pk}" in page
    all_entries = approver_client.get(
        reverse("admin:jobs_auditentry_changelist") + f"?job__id__exact={job.pk}"
    )
    assert all_entries.status_code == 200
    assert "Entry 4." in all_entries.text


@pytest.mark.parametrize("status", [JobStatus.PREVIEWED, JobStatus.RUNNING, JobStatus.INTERRUPTED])
def test_job_page_queries_do_not_grow_with_rows(
    approver_client: Client, django_assert_num_queries: DjangoAssertNumQueries, status: str
) -> None:
    small = job_with_rows(10, status=status, last_error_message="UPS did not answer.")
    large = job_with_rows(1000, status=status, last_error_message="UPS did not answer.")
    for job in (small, large):
        JobRow.objects.filter(job=job, row_number__in=[1, 2]).update(
            status=RowStatus.SHIPPED, tracking_number="1Z999AA10123456784", label="labels/x.gif"
        )
        JobRow.objects.filter(job=job, row_number=3).update(status=RowStatus.UNKNOWN)
        # Rows with errors have no shipment: their recipient is read from its own field.
        JobRow.objects.filter(job=job, row_number__gte=4).update(
            shipment={}, is_valid=False, recipient_as_read="Ada Lovelace"
        )
        AuditEntryFactory.create(job=job)
    approver_client.get(job_url(small))  # warm the session and permission caches

    with CaptureQueriesContext(connection) as small_queries:
        assert approver_client.get(job_url(small)).status_code == 200
    with django_assert_num_queries(len(small_queries)):
        assert approver_client.get(job_url(large)).status_code == 200


@pytest.mark.parametrize(
    ("status", "started", "preview_first"),
    [
        (JobStatus.PREVIEWED, False, True),
        (JobStatus.CANCELLED, False, True),  # cancelled before anything shipped
        (JobStatus.RUNNING, True, False),
        (JobStatus.FAILED, True, False),
        (JobStatus.COMPLETED, True, False),
    ],
)
def test_the_page_leads_with_the_preview_until_shipping_starts_then_with_the_rows(
    approver_client: Client, status: str, started: bool, preview_first: bool
) -> None:
    job = job_with_rows(3, status=status, started_at=timezone.now() if started else None)
    page = approver_client.get(job_url(job)).text

    preview_at = page.index('data-testid="preview-section"')
    assert (preview_at < page.index('data-testid="rows-table"')) is preview_first
    opening = page[page.rindex("<details", 0, preview_at) : page.index(">", preview_at)]
    assert (" open" in opening) is preview_first  # after that, one click away
    if not preview_first:
        assert text_of(page, "preview-collapsed-totals").startswith("3 rows, ")
