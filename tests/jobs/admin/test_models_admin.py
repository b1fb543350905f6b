"""The admin of the four models: staff only, audit and rows read-only, rows always paginated."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from jobs.models import JobRow
from tests.factories import (
    AuditEntryFactory,
    DataSourceFactory,
    JobFactory,
    JobRowFactory,
    ShippedJobRowFactory,
    UserFactory,
)
from tests.jobs.admin.html import table_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(UserFactory.create(is_superuser=True))
    return client


CHANGELISTS = ["jobs_job", "jobs_jobrow", "jobs_auditentry", "datasources_datasource"]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelists_render_for_staff(staff_client: Client, model: str) -> None:
    entry = AuditEntryFactory.create()
    JobRowFactory.create(job=entry.job)
    response = staff_client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelists_refuse_anonymous_and_non_staff(client: Client, model: str) -> None:
    url = reverse(f"admin:{model}_changelist")
    assert client.get(url).status_code == 302
    client.force_login(UserFactory.create(is_staff=False))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_job_page_links_to_its_rows_and_audit_trail(staff_client: Client) -> None:
    job = JobFactory.create(row_count=3)
    response = staff_client.get(reverse("admin:jobs_job_change", args=[job.pk]))
    assert response.status_code == 200
    assert f"?job__id__exact={job.pk}" in response.text
    assert "3 rows" in response.text


def test_audit_entries_are_read_only_in_the_admin(staff_client: Client) -> None:
    entry = AuditEntryFactory.create(message="Approved by Dana.")
    change_url = reverse("admin:jobs_auditentry_change", args=[entry.pk])
    page = staff_client.get(change_url)
    assert page.status_code == 200
    assert "Approved by Dana." in page.text
    assert 'name="_save"' not in page.text

    staff_client.post(change_url, {"message": "rewritten", "action": "x", "actor_label": "x"})
    entry.refresh_from_db()
    assert entry.message == "Approved by Dana."
    assert staff_client.get(reverse("admin:jobs_auditentry_add")).status_code == 403
    delete_url = reverse("admin:jobs_auditentry_delete", args=[entry.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403


def test_rows_are_found_by_part_of_the_recipients_name(staff_client: Client) -> None:
    job = JobFactory.create(row_count=3)
    anna = JobRowFactory.create(job=job, row_number=1, shipment={"recipient_name": "Anna Berg"})
    gina = JobRowFactory.create(job=job, row_number=2, shipment={}, recipient_as_read="Gina Ortiz")
    JobRowFactory.create(job=job, row_number=3, shipment={"recipient_name": "Carl Dahl"})
    url = reverse("admin:jobs_jobrow_changelist")

    for term, expected in (("anna", [anna.pk]), ("ORTIZ", [gina.pk])):
        page = staff_client.get(url, {"q": term})
        assert [row.pk for row in page.context["cl"].result_list] == expected
    assert "part of an order key or a recipient" in page.text


def test_the_rows_list_says_a_row_with_errors_has_errors(staff_client: Client) -> None:
    job = JobFactory.create(row_count=2)
    JobRowFactory.create(job=job, row_number=1)
    JobRowFactory.create(job=job, row_number=2, shipment={}, is_valid=False)
    url = reverse("admin:jobs_jobrow_changelist") + f"?job__id__exact={job.pk}"

    rows = table_rows(staff_client.get(url).text, 'id="result_list"')

    assert [(row[0], row[3]) for row in rows] == [("1", "Pending"), ("2", "Has errors")]


def test_the_rows_lists_status_filter_keeps_rows_with_errors_apart_from_pending(
    staff_client: Client,
) -> None:
    job = JobFactory.create(row_count=3)
    JobRowFactory.create(job=job, row_number=1)
    JobRowFactory.create(job=job, row_number=2, shipment={}, is_valid=False)
    shipped = {"status": "shipped", "tracking_number": "1Z0000000000000003"}
    JobRowFactory.create(job=job, row_number=3, **shipped)
    url = reverse("admin:jobs_jobrow_changelist") + f"?job__id__exact={job.pk}"

    def shown(status: str) -> list[int]:
        page = staff_client.get(url + f"&status={status}")
        assert page.status_code == 200
        return [row.row_number for row in page.context["cl"].result_list]

    assert (shown("pending"), shown("has_errors"), shown("shipped")) == ([1], [2], [3])
    assert shown("nonsense") == []
    filters = staff_client.get(url).text
    assert f"?job__id__exact={job.pk}&amp;status=has_errors" in filters
    assert ">Has errors</a>" in filters


def test_rows_are_paginated_and_show_all_is_never_offered(staff_client: Client) -> None:
    job = JobFactory.create(row_count=150)
    JobRow.objects.bulk_create(
        JobRowFactory.build(job=job, row_number=n, source_key=str(n), reference=f"SO-P{n:06d}")
        for n in range(1, 151)
    )
    url = reverse("admin:jobs_jobrow_changelist") + f"?job__id__exact={job.pk}"
    page = staff_client.get(url)
    assert len(page.context["cl"].result_list) == 100
    assert "Customer 100" in page.text
    assert "Customer 101" not in page.text
    everything = staff_client.get(url + "&all=")
    assert len(everything.context["cl"].result_list) == 100
    assert "showall" not in page.text


@pytest.mark.parametrize("rows", [5, 60])
def test_job_changelist_queries_do_not_grow_with_jobs(
    staff_client: Client, django_assert_max_num_queries: DjangoAssertNumQueries, rows: int
) -> None:
    source = DataSourceFactory.create()
    for _ in range(rows):
        JobFactory.create(data_source=source)
    with django_assert_max_num_queries(12):
        assert staff_client.get(reverse("admin:jobs_job_changelist")).status_code == 200


def test_rows_are_read_only_and_their_labels_go_through_the_staff_view(
    staff_client: Client,
) -> None:
    row = ShippedJobRowFactory.create(label="labels/job-1/x.gif", label_format="GIF")
    page = staff_client.get(reverse("admin:jobs_jobrow_change", args=[row.pk])).text
    assert 'name="_save"' not in page
    assert reverse("admin:jobs_jobrow_label", args=[row.pk]) in page
    assert "/media/labels/" not in page
