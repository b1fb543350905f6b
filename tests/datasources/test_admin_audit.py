"""Every add, change and delete of a data source in the admin leaves an audit entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin import site
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse

from datasources.models import DataSource
from jobs.models import AuditEntry
from tests.datasources.test_admin import ADD, change_url, form
from tests.factories import JobFactory, UserFactory
from tests.fixtures.sources import csv_bytes, order_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user() -> User:
    return UserFactory.create(username="lee", is_superuser=True)


def test_adding_changing_and_deleting_a_source_is_audited_with_who_and_what(
    client: Client, admin_user: User, source_root: Path
) -> None:
    client.force_login(admin_user)
    (source_root / "orders.csv").write_bytes(csv_bytes(order_rows(2)))
    client.post(ADD, form(file_path="orders.csv"))
    source = DataSource.objects.get()
    added = AuditEntry.objects.get(action="data_source_added")
    assert (added.actor, added.job) == (admin_user, None)
    assert added.message == "Added data source “Warehouse orders”."
    assert added.data["data_source"] == source.pk
    assert added.data["changes"]["key_column"] == {"from": None, "to": "order_id"}

    # What every later parcel ships from changes here: the trail says from what to what.
    override = '{"city": "Denver", "state": "CO", "postal_code": "80202"}'
    client.post(
        change_url(source), form(file_path="orders.csv", key_column="", ship_from_override=override)
    )
    changed = AuditEntry.objects.get(action="data_source_changed")
    assert changed.message == (
        "Changed data source “Warehouse orders”: key_column, ship_from_override."
    )
    assert changed.data["changes"]["key_column"] == {"from": "order_id", "to": ""}
    assert changed.data["changes"]["ship_from_override"]["to"]["city"] == "Denver"

    client.post(change_url(source), form(file_path="orders.csv", ship_from_override=override))
    client.post(change_url(source), form(file_path="orders.csv", ship_from_override=override))
    assert AuditEntry.objects.filter(action="data_source_changed").count() == 2  # no-op unsaid

    delete = reverse("admin:datasources_datasource_delete", args=[source.pk])
    client.post(delete, {"post": "yes"})
    assert not DataSource.objects.exists()
    deleted = AuditEntry.objects.get(action="data_source_deleted")
    assert (deleted.actor, deleted.data["name"]) == (admin_user, "Warehouse orders")
    trail = client.get(reverse("admin:jobs_auditentry_changelist"))
    assert trail.status_code == 200
    assert "Deleted data source “Warehouse orders”." in trail.text


def test_a_refused_change_leaves_no_audit_entry(
    client: Client, admin_user: User, source_root: Path
) -> None:
    client.force_login(admin_user)
    client.post(ADD, form(file_path="missing.csv"))
    assert not DataSource.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_bulk_delete_that_fails_leaves_no_audit_entry(
    client: Client, admin_user: User, source_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.force_login(admin_user)
    (source_root / "orders.csv").write_bytes(csv_bytes(order_rows(2)))
    client.post(ADD, form(file_path="orders.csv"))
    source = DataSource.objects.get()
    source_admin = type(site._registry[DataSource])
    real_log = source_admin.log_deletions

    def job_created_meanwhile(self: Any, request: Any, queryset: Any) -> None:
        JobFactory.create(data_source=source)  # after the page checked for protected objects
        real_log(self, request, queryset)

    monkeypatch.setattr(source_admin, "log_deletions", job_created_meanwhile)
    changelist = reverse("admin:datasources_datasource_changelist")
    with pytest.raises(ProtectedError):
        client.post(
            changelist,
            {"action": "delete_selected", "_selected_action": [source.pk], "post": "yes"},
        )
    assert DataSource.objects.filter(pk=source.pk).exists()
    assert not AuditEntry.objects.filter(action="data_source_deleted").exists()


def test_where_rows_are_may_not_change_under_a_job_under_way(
    client: Client, admin_user: User, source_root: Path
) -> None:
    client.force_login(admin_user)
    (source_root / "orders.csv").write_bytes(csv_bytes(order_rows(2)))
    (source_root / "tomorrow.csv").write_bytes(csv_bytes(order_rows(3)))
    client.post(ADD, form(file_path="orders.csv"))
    source = DataSource.objects.get()
    job = JobFactory.create(data_source=source, status="interrupted")

    moved = client.post(change_url(source), form(file_path="tomorrow.csv", key_column=""))

    assert moved.status_code == 200  # the form again, with the reason
    [refusal] = moved.context["adminform"].form.non_field_errors()
    assert refusal.startswith(
        f"{job} (interrupted) of this data source is not finished. Changing where the source's "
        "rows are read and written (file path, key column) now"
    )
    source.refresh_from_db()
    assert (source.file_path, source.key_column) == ("orders.csv", "order_id")
    assert not AuditEntry.objects.filter(action="data_source_changed").exists()

    # A default is not where rows are: it may change.
    client.post(change_url(source), form(file_path="orders.csv", default_service_code="02"))
    source.refresh_from_db()
    assert source.default_service_code == "02"

    upload = SimpleUploadedFile("new.csv", csv_bytes(order_rows(1)))
    uploaded = client.post(change_url(source), form(file_path="orders.csv", upload=upload))
    assert "is not finished" in uploaded.context["adminform"].form.non_field_errors()[0]
    assert not (source_root / "new.csv").exists()  # a refused upload is not stored

    job.status = "cancelled"
    job.save()
    client.post(change_url(source), form(file_path="tomorrow.csv"))
    source.refresh_from_db()
    assert source.file_path == "tomorrow.csv"
