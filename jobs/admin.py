from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from jobs import selectors
from jobs.models import AuditEntry, Job, JobRow
from shipops.money import format_cents


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "mode",
        "data_source",
        "row_count",
        "shipped_count",
        "failed_count",
        "estimated_cost",
        "actual_cost",
        "created_by",
        "approved_by",
        "created_at",
    ]
    list_filter = ["status", "mode", "data_source", "created_at"]
    search_fields = ["=id", "data_source__name", "last_error_message"]
    date_hierarchy = "created_at"
    list_per_page = 50
    readonly_fields = [
        "status",
        "row_count",
        "invalid_count",
        "previewed_count",
        "warning_count",
        "shipped_count",
        "failed_count",
        "skipped_count",
        "writeback_failed_count",
        "estimated_cost",
        "actual_cost",
        "created_by",
        "approved_by",
        "approved_at",
        "last_error_code",
        "last_error_message",
        "last_error_row",
        "lease_owner",
        "lease_expires_at",
        "fencing_token",
        "resume_count",
        "created_at",
        "updated_at",
        "started_at",
        "finished_at",
        "rows_link",
        "audit_link",
    ]
    fields = ["data_source", "filter", "mode", *readonly_fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Job]:
        return selectors.job_list()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Source, filter and mode are chosen when a job is made; after that only services change it.
        if obj is not None:
            return ["data_source", "filter", "mode", *self.readonly_fields]
        return list(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Est. cost", ordering="estimated_cost_cents")
    def estimated_cost(self, job: Job) -> str:
        return format_cents(job.estimated_cost_cents, job.currency)

    @admin.display(description="Actual cost", ordering="actual_cost_cents")
    def actual_cost(self, job: Job) -> str:
        return format_cents(job.actual_cost_cents, job.currency)

    @admin.display(description="Rows")
    def rows_link(self, job: Job) -> SafeString:
        url = reverse("admin:jobs_jobrow_changelist") + f"?job__id__exact={job.pk}"
        return format_html('<a href="{}">{} rows</a>', url, job.row_count)

    @admin.display(description="Audit trail")
    def audit_link(self, job: Job) -> SafeString:
        url = reverse("admin:jobs_auditentry_changelist") + f"?job__id__exact={job.pk}"
        return format_html('<a href="{}">Audit trail</a>', url)


@admin.register(JobRow)
class JobRowAdmin(admin.ModelAdmin):
    list_display = [
        "row_number",
        "job",
        "recipient",
        "status",
        "estimated_cost",
        "tracking_number",
        "writeback_status",
        "error_code",
    ]
    list_filter = ["status", "writeback_status", "job"]
    search_fields = ["=tracking_number", "=reference", "source_key"]
    list_per_page = 100
    # "Show all" would render every row of a 10,000-row job in one page: never offer it.
    list_max_show_all = 100
    show_full_result_count = False
    readonly_fields = [f.name for f in JobRow._meta.concrete_fields if f.name != "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[JobRow]:
        return selectors.job_rows()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Recipient")
    def recipient(self, row: JobRow) -> str:
        return row.recipient

    @admin.display(description="Est. cost", ordering="estimated_cost_cents")
    def estimated_cost(self, row: JobRow) -> str:
        if row.estimated_cost_cents is None:
            return "-"
        return format_cents(row.estimated_cost_cents, row.job.currency)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail: searchable, filterable, and never editable by anyone."""

    list_display = ["created_at", "actor_label", "action", "job", "row", "message"]
    list_filter = ["action", "created_at"]
    search_fields = ["actor_label", "action", "message", "=job__id"]
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEntry]:
        return selectors.audit_trail()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
