"""Deleting data sources in the admin: one with jobs stays, and the page says why; others go."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from datasources.models import DataSource
from jobs.models import AuditEntry
from tests.factories import DataSourceFactory, JobFactory
from tests.jobs.admin.html import count_of, text_of

# pytest-django's admin_client: a superuser, who may delete anything Django lets anyone delete.
pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:datasources_datasource_changelist")


def delete_url(source: DataSource) -> str:
    return reverse("admin:datasources_datasource_delete", args=[source.pk])


def jobs_url(source: DataSource) -> str:
    return (
        f"{reverse('admin:jobs_job_changelist')}?{urlencode({'data_source__id__exact': source.pk})}"
    )


def delete_selected(client: Client, sources: list[DataSource], **data: str) -> Any:
    payload = {"action": "delete_selected", "_selected_action": [s.pk for s in sources], **data}
    return client.post(CHANGELIST, payload)


def test_a_source_with_jobs_says_why_it_stays_and_what_to_do(admin_client: Client) -> None:
    source = DataSourceFactory.create(name="Warehouse orders")
    JobFactory.create_batch(2, data_source=source)
    page = admin_client.get(delete_url(source))

    assert page.status_code == 200
    assert "permission to delete" not in page.text
    assert "protected related objects" not in page.text
    assert text_of(page.text, "delete-refused") == (
        "The data source “Warehouse orders” cannot be deleted: jobs were created from it, "
        "and ShipOps keeps every job, with its rows and its audit trail, as the record of what "
        "shipped from where. Each job keeps the data source it was created from."
    )
    assert text_of(page.text, "delete-instead").startswith(
        "Leave it in place for its jobs: a data source ships nothing by itself"
    )
    assert f'“Warehouse orders”: <a href="{jobs_url(source)}">2 jobs</a>' in page.text
    assert 'name="post"' not in page.text  # nothing to confirm

    # Even posted as the confirmation would be, nothing is deleted.
    refused = admin_client.post(delete_url(source), {"post": "yes"})
    assert refused.status_code == 200
    assert DataSource.objects.filter(pk=source.pk).exists()
    assert not AuditEntry.objects.filter(action="data_source_deleted").exists()


def test_delete_selected_names_the_sources_with_jobs_and_deletes_nothing(
    admin_client: Client,
) -> None:
    kept = DataSourceFactory.create(name="Warehouse orders")
    JobFactory.create(data_source=kept)
    unused = DataSourceFactory.create(name="Test upload")
    page = delete_selected(admin_client, [kept, unused])

    assert page.status_code == 200
    assert "permission to delete" not in page.text
    assert text_of(page.text, "delete-refused").startswith(
        "The 2 selected data sources cannot be deleted: jobs were created from 1 of them, "
        "and ShipOps keeps every job"
    )
    assert text_of(page.text, "delete-instead").endswith("To delete “Test upload”, select only it.")
    kept_list = page.text[page.text.index('data-testid="kept-for-jobs"') :].split("</ul>")[0]
    assert f'“Warehouse orders”: <a href="{jobs_url(kept)}">1 job</a>' in kept_list
    assert "Test upload" not in kept_list
    assert count_of(page.text, "delete-back") == 1

    delete_selected(admin_client, [kept, unused], post="yes")
    assert DataSource.objects.count() == 2


def test_sources_without_jobs_are_still_deleted(admin_client: Client) -> None:
    single, first, second = DataSourceFactory.create_batch(3)
    JobFactory.create()  # another source's job changes nothing here

    assert "Are you sure" in admin_client.get(delete_url(single)).text
    admin_client.post(delete_url(single), {"post": "yes"})
    assert "Are you sure" in delete_selected(admin_client, [first, second]).text
    delete_selected(admin_client, [first, second], post="yes")

    assert not DataSource.objects.filter(pk__in=[single.pk, first.pk, second.pk]).exists()
    assert AuditEntry.objects.filter(action="data_source_deleted").count() == 3
