"""The audit trail in the admin: searchable, filterable, and never editable by anyone."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from jobs import selectors
from jobs.admin.common import ReadOnlyAdmin
from jobs.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail: searchable, filterable, and never editable by anyone."""

    list_display = ["created_at", "actor_label", "action", "job", "row", "message"]
    list_filter = ["action", "created_at"]
    search_fields = ["actor_label", "action", "message", "=job__id"]
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEntry]:
        return selectors.audit_trail()
