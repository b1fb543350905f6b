"""Job rows: read-only, always paginated, labels streamed to staff through a view."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from jobs import selectors
from jobs.admin.common import ReadOnlyAdmin, admin_view
from jobs.admin.labels import row_label_view
from jobs.models import JobRow
from jobs.states import RowStatus
from shipops.money import format_cents


def label_link(row: JobRow) -> SafeString | str:
    """Return a link to the row's label through the staff-only view, or "-"."""
    if not row.label_usable:
        return "-"
    url = reverse("admin:jobs_jobrow_label", args=[row.pk])
    return format_html(
        '<a href="{}" data-testid="label-link">{} label</a>', url, row.label_format or "Label"
    )


class RowStatusFilter(admin.SimpleListFilter):
    """The rows' status as the list shows it: a pending row with errors under "Has errors"."""

    title = "status"
    parameter_name = "status"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[JobRow]
    ) -> list[tuple[str, str]]:
        shown = []
        for value, label in RowStatus.choices:
            shown.append((value, str(label)))
            if value == RowStatus.PENDING:
                shown.append((selectors.HAS_ERRORS, "Has errors"))
        return shown

    def queryset(self, request: HttpRequest, queryset: QuerySet[JobRow]) -> QuerySet[JobRow]:
        wanted = self.value()
        if wanted in selectors.SHOWN_ROW_STATUSES:
            return selectors.rows_shown_as(queryset, wanted)
        return queryset if wanted is None else queryset.none()


@admin.register(JobRow)
class JobRowAdmin(ReadOnlyAdmin):
    list_display = [
        "row_number",
        "job",
        "recipient",
        "status_label",
        "estimated_cost",
        "tracking",
        "label_file",
        "writeback_status",
        "error_code",
    ]
    # No "job" filter: it would list every job ever made; the job page links here filtered.
    list_filter = [RowStatusFilter, "writeback_status"]
    search_fields = [
        "=tracking_number",
        "=reference",
        "source_key",
        "shipment__recipient_name",
        "recipient_as_read",
    ]
    search_help_text = (
        "A tracking number or reference (whole), or part of an order key or a recipient's name."
    )
    list_per_page = 100
    # "Show all" would render every row of a 10,000-row job in one page: never offer it.
    list_max_show_all = 100
    show_full_result_count = False
    # The label is shown through the staff-only view, never as a media URL.
    exclude = ["label"]
    readonly_fields = [
        *(f.name for f in JobRow._meta.concrete_fields if f.name not in ("id", "label")),
        "label_file",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[JobRow]:
        return selectors.job_rows()

    def get_urls(self) -> list[URLPattern]:
        label = path(
            "<int:object_id>/label/",
            admin_view(self, row_label_view, "GET"),
            name="jobs_jobrow_label",
        )
        return [label, *super().get_urls()]

    @admin.display(description="Recipient")
    def recipient(self, row: JobRow) -> str:
        return row.recipient

    @admin.display(description="Status", ordering="status")
    def status_label(self, row: JobRow) -> str:
        return row.status_label

    @admin.display(description="Est. cost", ordering="estimated_cost_cents")
    def estimated_cost(self, row: JobRow) -> str:
        return format_cents(row.estimated_cost_cents, row.job.currency)

    @admin.display(description="Tracking number", ordering="tracking_number")
    def tracking(self, row: JobRow) -> SafeString | str:
        if not row.tracking_number:
            return "-"
        return format_html('<span data-testid="tracking-number">{}</span>', row.tracking_number)

    @admin.display(description="Label")
    def label_file(self, row: JobRow) -> SafeString | str:
        return label_link(row)
