"""The job list: status, progress, counts, costs and people; filters; constant query counts."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from jobs.models import Job
from jobs.states import JobStatus
from tests.factories import DataSourceFactory, UserFactory
from tests.jobs.admin.conftest import job_with_rows
from tests.jobs.admin.html import count_of

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:jobs_job_changelist")


def test_each_job_shows_its_status_progress_counts_costs_and_people(
    approver_client: Client,
) -> None:
    dana = UserFactory.create(username="dana-approves")
    job = job_with_rows(
        8,
        status=JobStatus.RUNNING,
        shipped_count=2,
        failed_count=0,
        warning_count=1,
        estimated_cost_cents=12345,
        previewed_count=8,
        actual_cost_cents=3010,
        approved_by=dana,
    )
    page = approver_client.get(CHANGELIST).text
    assert f'data-testid="job-{job.pk}-progress"' in page
    assert 'aria-valuenow="25"' in page
    assert "2 of 8 rows shipped" in page
    assert '<span class="job-counts">8 rows</span>' in page
    assert "2 shipped · 1 with warnings" in page
    assert "$123.45" in page
    assert "$30.10" in page
    assert "Running" in page
    assert job.data_source.name in page
    assert job.created_by is not None
    assert job.created_by.username in page
    assert "dana-approves" in page


def test_jobs_filter_by_status_source_and_date(approver_client: Client) -> None:
    source = DataSourceFactory.create(name="Warehouse East")
    running = job_with_rows(1, status=JobStatus.RUNNING, data_source=source)
    failed = job_with_rows(1, status=JobStatus.FAILED)
    Job.objects.filter(pk=failed.pk).update(created_at=timezone.now() - dt.timedelta(days=40))

    def shown(query: str) -> set[int]:
        response = approver_client.get(CHANGELIST + query)
        assert response.status_code == 200
        return {job.pk for job in response.context["cl"].result_list}

    assert shown("?status__exact=failed") == {failed.pk}
    assert shown(f"?data_source__id__exact={source.pk}") == {running.pk}
    page = approver_client.get(CHANGELIST).text
    link = re.search(r'href="(\?created_at__gte=[^"]+)"[^>]*>Today', page)
    assert link is not None
    today = html.unescape(link[1])
    assert shown(today) == {running.pk}
    assert shown("?status__exact=nonsense") == set()


def test_the_list_offers_the_job_actions_by_permission(approver_client: Client) -> None:
    job_with_rows(1)
    approver_page = approver_client.get(CHANGELIST).text
    for action in ["preview_jobs", "approve_jobs", "restart_job", "cancel_jobs", "resume_jobs"]:
        assert f'value="{action}"' in approver_page
    assert 'value="delete_selected"' not in approver_page


def test_operators_do_not_see_the_approve_actions(operator_client: Client) -> None:
    job_with_rows(1)
    page = operator_client.get(CHANGELIST).text
    assert 'value="preview_jobs"' in page
    assert 'value="approve_jobs"' not in page
    assert 'value="restart_job"' not in page


def test_create_job_replaces_the_model_form(approver_client: Client) -> None:
    page = approver_client.get(reverse("admin:jobs_job_add")).text
    assert count_of(page, "create-job-submit") == 1
    assert 'name="status"' not in page


def test_job_list_queries_do_not_grow_with_rows(
    approver_client: Client, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    running = CHANGELIST + "?status__exact=running"
    small = [job_with_rows(10, status=JobStatus.RUNNING) for _ in range(3)]
    approver_client.get(running)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as queries:
        assert approver_client.get(running).status_code == 200
    assert len(queries) <= 11  # with the mode switch's lock check in the header
    Job.objects.filter(pk__in=[job.pk for job in small]).update(status=JobStatus.COMPLETED)
    for _ in range(3):
        job_with_rows(1000, status=JobStatus.RUNNING)
    with django_assert_num_queries(len(queries)):
        response = approver_client.get(running)
    assert len(response.context["cl"].result_list) == 3
