"""Data sources in the admin: add one from an upload or a path, check its rows, start a job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from datasources.admin.deletion import jobs_keep_sources
from datasources.admin.forms import DataSourceForm
from datasources.admin.inspection import inspect_source
from datasources.models import DataSource
from datasources.signals import source_changed


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


def _plain(value: Any) -> Any:
    """Return ``value`` as JSON holds it: the audit keeps old and new values as they were."""
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


def form_changes(form: forms.BaseForm, *, added: bool) -> dict[str, dict[str, Any]]:
    """Return each field the form changed, from and to (for an add: every field it set)."""
    if added:
        return {
            name: {"from": None, "to": _plain(value)}
            for name, value in form.cleaned_data.items()
            if value not in (None, "", {}, [])
        }
    changes = {
        name: {"from": _plain(form.initial.get(name)), "to": _plain(form.cleaned_data.get(name))}
        for name in form.changed_data
    }
    # A JSON field the browser sends back unchanged may still count as changed.
    return {name: change for name, change in changes.items() if change["from"] != change["to"]}


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

    def save_model(
        self, request: HttpRequest, obj: DataSource, form: forms.ModelForm, change: bool
    ) -> None:
        # The admin saves inside one transaction: the audit entry commits with the change.
        super().save_model(request, obj, form, change)
        changes = form_changes(form, added=not change)
        if changes:
            source_changed.send(
                sender=DataSource,
                source=obj,
                actor=request.user,
                action="changed" if change else "added",
                changes=changes,
            )

    def get_deleted_objects(
        self, objs: Sequence[DataSource] | QuerySet[DataSource], request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        """Refuse, saying why, to delete sources that jobs were created from.

        Django would say the account may not delete jobs (nobody may); the
        delete pages explain the sources ``protected`` lists instead, and Django
        deletes nothing while it is not empty.
        """
        if kept := jobs_keep_sources(objs):
            return [], {}, set(), kept
        return super().get_deleted_objects(objs, request)

    def delete_model(self, request: HttpRequest, obj: DataSource) -> None:
        self._deleting(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[DataSource]) -> None:
        # The list's delete action runs outside a transaction: the audit commits with the delete.
        with transaction.atomic():
            self._deleting(request, list(queryset))
            super().delete_queryset(request, queryset)

    def _deleting(self, request: HttpRequest, sources: list[DataSource]) -> None:
        for source in sources:
            source_changed.send(
                sender=DataSource, source=source, actor=request.user, action="deleted", changes={}
            )

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
