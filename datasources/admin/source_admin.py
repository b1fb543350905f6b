"""Data sources in the admin: add one from an upload or a path, check its rows, start a job."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from datasources.admin.forms import DataSourceForm
from datasources.admin.inspection import inspect_source
from datasources.models import DataSource


def create_job_url(source: DataSource) -> str:
    """Return the job admin's create page with ``source`` chosen (jobs are made there)."""
    return f"{reverse('admin:jobs_job_add')}?{urlencode({'data_source': source.pk})}"


@admin.action(description="Create a job from the selected data source")
def create_job(
    modeladmin: admin.ModelAdmin[DataSource], request: HttpRequest, queryset: QuerySet[DataSource]
) -> HttpResponse | None:
    sources = list(queryset[:2])
    if len(sources) != 1:
        messages.error(request, "Select exactly one data source to create a job from.")
        return None
    return HttpResponseRedirect(create_job_url(sources[0]))


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    form = DataSourceForm
    list_display = ["name", "kind", "location", "key_column", "default_service_code", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "file_path", "table_name"]
    readonly_fields = ["created_at", "updated_at"]
    actions = [create_job]
    fieldsets = [
        (None, {"fields": ["name", "kind"]}),
        ("File", {"fields": ["upload", "file_path", "sheet_name"]}),
        ("Database table", {"fields": ["db_alias", "table_name"]}),
        ("Rows", {"fields": ["key_column", "column_mapping"]}),
        ("Write-back", {"fields": ["tracking_column", "shipped_at_column"]}),
        (
            "Defaults",
            {
                "fields": [
                    "default_service_code",
                    "default_packaging_code",
                    "default_weight_lbs",
                    "ship_from_override",
                ]
            },
        ),
        ("History", {"classes": ["collapse"], "fields": ["created_at", "updated_at"]}),
    ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: DataSource | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            context["inspection"] = inspect_source(obj)
            if request.user.has_perm("jobs.add_job"):
                context["create_job_url"] = create_job_url(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_add(
        self, request: HttpRequest, obj: DataSource, post_url_continue: str | None = None
    ) -> HttpResponse:
        # A new source opens on its own page: the sample rows show whether it reads right.
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        messages.success(request, f"The data source “{obj}” was added. Check its rows below.")
        return HttpResponseRedirect(reverse("admin:datasources_datasource_change", args=[obj.pk]))
