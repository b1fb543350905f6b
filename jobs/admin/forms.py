"""Forms of the job admin: creating a job from a data source, settling an unknown row."""

from __future__ import annotations

from typing import Any

from django import forms

from datasources.models import DataSource
from jobs.filters import RowFilter
from shipops.errors import DomainError

SHIPPED, NOT_SHIPPED = "shipped", "not_shipped"


class JobCreateForm(forms.Form):
    """A data source and an optional row filter, as ``job_create`` takes them."""

    data_source = forms.ModelChoiceField(queryset=DataSource.objects.all(), label="Data source")
    column = forms.CharField(
        required=False, help_text="Only rows whose cell in this column matches the value."
    )
    match = forms.ChoiceField(
        choices=[("equals", "equals"), ("contains", "contains")], initial="equals"
    )
    value = forms.CharField(required=False, help_text="Compared ignoring case.")
    first_row = forms.IntegerField(required=False, min_value=1, label="From row")
    last_row = forms.IntegerField(required=False, min_value=1, label="To row")
    include_already_shipped = forms.BooleanField(
        required=False,
        label="Also take rows that already have a tracking number",
        help_text="Left out by default: they were shipped before.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            self.row_filter = RowFilter.from_json(
                {
                    key: cleaned.get(key)
                    for key in ("column", "match", "value", "first_row", "last_row")
                }
            )
        except DomainError as error:
            raise forms.ValidationError(error.message) from error
        return cleaned


class UnknownRowForm(forms.Form):
    """A person's decision on a row whose ship outcome is unknown."""

    decision = forms.ChoiceField(choices=[(SHIPPED, "Shipped"), (NOT_SHIPPED, "Not shipped")])
    tracking_number = forms.CharField(required=False, max_length=35)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decision") == SHIPPED and not cleaned.get("tracking_number", "").strip():
            raise forms.ValidationError("Enter the tracking number UPS gave this parcel.")
        if cleaned.get("decision") == NOT_SHIPPED:
            cleaned["tracking_number"] = ""
        return cleaned
