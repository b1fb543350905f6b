"""Every admin URL refuses anonymous and non-staff people; writes need a CSRF token."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from jobs.models import Job, JobRow
from jobs.states import JobStatus
from tests.factories import UserFactory
from tests.jobs.admin.conftest import job_url, job_with_rows

pytestmark = pytest.mark.django_db

JOB_URLS = [
    ("GET", "admin:jobs_job_changelist", False),
    ("GET", "admin:jobs_job_add", False),
    ("POST", "admin:jobs_job_add", False),
    ("GET", "admin:jobs_job_change", True),
    ("POST", "admin:jobs_job_change", True),
    ("GET", "admin:jobs_job_progress", True),
    ("GET", "admin:jobs_job_labels_pdf", True),
    ("GET", "admin:jobs_job_labels_zpl", True),
    ("GET", "admin:jobs_job_export_csv", True),
    ("GET", "admin:jobs_job_export_xlsx", True),
    ("POST", "admin:jobs_job_mode", False),
    ("GET", "admin:jobs_jobrow_changelist", False),
    ("GET", "admin:datasources_datasource_add", False),
    ("GET", "admin:datasources_datasource_changelist", False),
]


def url_for(name: str, job: Job, with_job: bool) -> str:
    return reverse(name, args=[job.pk]) if with_job else reverse(name)


@pytest.mark.parametrize(("method", "name", "with_job"), JOB_URLS)
@pytest.mark.parametrize("who", ["anonymous", "not staff"])
def test_admin_urls_refuse_anonymous_and_non_staff(
    client: Client, method: str, name: str, with_job: bool, who: str
) -> None:
    job = job_with_rows(2, status=JobStatus.PREVIEWED)
    if who == "not staff":
        client.force_login(UserFactory.create(is_staff=False, is_superuser=True))
    url = url_for(name, job, with_job)
    data = {"CHANGE_FORM-action": "approve_jobs", "_selected_action": str(job.pk), "mode": "auto"}
    response = client.get(url) if method == "GET" else client.post(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert Job.objects.get(pk=job.pk).status == JobStatus.PREVIEWED


def test_row_label_and_unknown_row_views_refuse_anonymous(client: Client) -> None:
    job = job_with_rows(1, status=JobStatus.INTERRUPTED)
    row = JobRow.objects.get(job=job)
    for response in (
        client.get(reverse("admin:jobs_jobrow_label", args=[row.pk])),
        client.post(reverse("admin:jobs_job_unknown_row", args=[job.pk, row.pk]), {}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_job_permissions_are_refused(client: Client) -> None:
    job = job_with_rows(1, status=JobStatus.PREVIEWED)
    client.force_login(UserFactory.create(username="stranger"))
    assert client.get(job_url(job)).status_code == 403
    assert client.get(reverse("admin:jobs_job_progress", args=[job.pk])).status_code == 403
    assert client.get(reverse("admin:jobs_job_export_csv", args=[job.pk])).status_code == 403
    assert client.get(reverse("admin:jobs_job_add")).status_code == 403


@pytest.mark.parametrize(
    "name", ["admin:jobs_job_progress", "admin:jobs_job_export_csv", "admin:jobs_job_labels_pdf"]
)
def test_unknown_job_ids_are_404_pages(approver_client: Client, name: str) -> None:
    assert approver_client.get(reverse(name, args=[987654])).status_code == 404


def test_writes_need_a_csrf_token(approver_user: User) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(approver_user)
    job = job_with_rows(2, status=JobStatus.PREVIEWED)
    action = {"CHANGE_FORM-action": "approve_jobs", "_selected_action": str(job.pk)}
    assert csrf_client.post(job_url(job), action).status_code == 403
    assert csrf_client.post(reverse("admin:jobs_job_mode"), {"mode": "auto"}).status_code == 403
    assert Job.objects.get(pk=job.pk).status == JobStatus.PREVIEWED


def test_get_on_post_only_views_is_refused(approver_client: Client) -> None:
    assert approver_client.get(reverse("admin:jobs_job_mode")).status_code == 405


def test_labels_are_not_served_as_media(approver_client: Client) -> None:
    assert approver_client.get("/media/labels/job-1/SO1-1.gif").status_code == 404


def test_the_login_page_has_no_mode_switch(client: Client) -> None:
    page = client.get(reverse("admin:login"))
    assert page.status_code == 200
    assert 'data-testid="mode-switch"' not in page.text


@pytest.mark.parametrize("query", ["?data_source=abc", "?data_source=99999", "?data_source="])
def test_the_create_page_shrugs_off_a_bad_source_id(approver_client: Client, query: str) -> None:
    assert approver_client.get(reverse("admin:jobs_job_add") + query).status_code == 200


def test_a_row_of_another_job_is_a_404(approver_client: Client) -> None:
    job = job_with_rows(1, status=JobStatus.INTERRUPTED)
    other = JobRow.objects.get(job=job_with_rows(1, status=JobStatus.INTERRUPTED))
    url = reverse("admin:jobs_job_unknown_row", args=[job.pk, other.pk])
    assert approver_client.post(url, {"decision": "not_shipped"}).status_code == 404
