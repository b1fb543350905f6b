"""Every add, change and delete of a data source in the admin leaves an audit entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin import site
from django.contrib.auth.models import User
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
