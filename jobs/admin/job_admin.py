"""The job list and the job page: jobs change only through their actions, never a form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation, csrf_protect_m
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path
from django.utils.safestring import SafeString

from jobs import selectors
from jobs.admin import exports, labels, views
from jobs.admin.actions import JOB_ACTIONS
from jobs.admin.buttons import APPROVAL_ACTIONS
from jobs.admin.common import FORM_ACTION_FIELD, admin_view
from jobs.admin.display import JobDisplay, progress_bar
from jobs.admin.page import job_page_context
from jobs.models import Job
from jobs.permissions import APPROVE_PERMISSION, OPERATE_PERMISSION

NO_APPROVE_PERMISSION = (
    "You may not approve or restart jobs: ask an administrator for the “approve job” permission."
)
COUNTS = [
    "row_count", "invalid_count", "previewed_count", "warning_count", "shipped_count",
    "failed_count", "skipped_count", "already_shipped_count", "writeback_failed_count",
]  # fmt: skip


@admin.register(Job)
class JobAdmin(JobDisplay, admin.ModelAdmin):
    list_display = [
        "__str__",
        "status_label",
        "progress",
        "counts",
        "estimated_cost",
        "actual_cost",
        "data_source",
        "created_by",
        "approved_by",
        "created_at",
    ]
    list_filter = ["status", "data_source", "created_at", "mode"]
    search_fields = ["=id", "data_source__name", "last_error_message"]
    date_hierarchy = "created_at"
    list_per_page = 50
    actions = JOB_ACTIONS
    fieldsets = [
        (None, {"fields": ["data_source", "filter_text", "mode", "status_label", "page_progress"]}),
        ("People", {"fields": ["created_by", "created_at", "approved_by", "approved_at"]}),
        ("Counts", {"fields": [*COUNTS]}),
        ("Costs", {"fields": ["estimated_cost", "actual_cost"]}),
        ("Last error", {"fields": ["last_error_code", "last_error_message", "last_error_row"]}),
        (
            "Worker",
            {
                "classes": ["collapse"],
                "fields": [
                    "lease_owner",
                    "lease_expires_at",
                    "fencing_token",
                    "resume_count",
                    "started_at",
                    "finished_at",
                    "updated_at",
                ],
            },
        ),
    ]
    readonly_fields = [
        "filter_text",
        "status_label",
        "page_progress",
        "estimated_cost",
        "actual_cost",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Job]:
        return selectors.job_list()

    # Jobs change only through services (the actions below); the page itself is read-only.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """Return whether the user may preview, resume, cancel and retry jobs."""
        return request.user.has_perm(OPERATE_PERMISSION)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        """Return whether the user may approve (buy labels for) and restart jobs."""
        return request.user.has_perm(APPROVE_PERMISSION)

    def response_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Job],
        action_location: ActionLocation = ActionLocation.CHANGE_LIST,
    ) -> HttpResponse | None:
        # Django would only say "No action selected."; say which permission is missing.
        field = FORM_ACTION_FIELD if action_location == ActionLocation.CHANGE_FORM else "action"
        wanted = set(request.POST.getlist(field))
        if wanted & APPROVAL_ACTIONS and not self.has_approve_permission(request):
            self.message_user(request, NO_APPROVE_PERMISSION, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset, action_location)

    @admin.display(description="Progress")
    def page_progress(self, job: Job) -> SafeString:
        return progress_bar(job)

    @csrf_protect_m
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """Show a job's page; run the action its buttons post, outside any wrapping transaction.

        Django runs every POST to a change form in one transaction. A job's page
        edits nothing (jobs change only through services), so a POST here is an
        action, and its service commits each of its steps itself. A restart voids
        shipments at UPS between its steps: wrapped, an error would undo the
        record of voids UPS made, and colleagues and workers would wait for the
        whole restart (on SQLite, the whole database would).
        """
        if request.method == "POST" and object_id is not None:
            if "_saveasnew" in request.POST:
                # Not a button of this page; Django would take it for an add (and fail).
                raise PermissionDenied
            # Django's own view, as changeform_view calls it, without the transaction.
            view = self._changeform_view  # type: ignore[attr-defined]
            response: HttpResponse = view(request, object_id, form_url, extra_context)
            return response
        return super().changeform_view(request, object_id, form_url, extra_context)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return views.create_job_view(self, request)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Job | None = None,
    ) -> HttpResponse:
        if obj is not None:
            allowed = set(self.get_actions(request, action_location=ActionLocation.CHANGE_FORM))
            decide = self.has_approve_permission(request)
            context.update(job_page_context(request, obj, allowed=allowed, can_decide=decide))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        routes: list[tuple[str, Callable[..., HttpResponseBase], str, str]] = [
            ("mode/", views.mode_switch_view, "POST", "mode"),
            ("mode.json", views.mode_state_view, "GET", "mode_state"),
            ("<int:object_id>/progress.json", views.progress_view, "GET", "progress"),
            (
                "<int:object_id>/rows/<int:row_id>/decide/",
                views.unknown_row_view,
                "POST",
                "unknown_row",
            ),
            ("<int:object_id>/labels/fetch/", views.fetch_labels_view, "POST", "fetch_labels"),
            ("<int:object_id>/labels.pdf", labels.labels_pdf_view, "GET", "labels_pdf"),
            ("<int:object_id>/labels.zpl", labels.labels_zpl_view, "GET", "labels_zpl"),
            ("<int:object_id>/results.csv", exports.export_csv_view, "GET", "export_csv"),
            ("<int:object_id>/results.xlsx", exports.export_xlsx_view, "GET", "export_xlsx"),
        ]
        own = [
            path(route, admin_view(self, view, method), name=f"jobs_job_{name}")
            for route, view, method, name in routes
        ]
        return own + super().get_urls()
