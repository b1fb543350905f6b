from __future__ import annotations

from django.db import models
from django.db.models import Q


class SourceKind(models.TextChoices):
    CSV = "csv", "CSV file"
    EXCEL = "excel", "Excel workbook"
    DATABASE = "database", "Database table"


def default_ship_from_override() -> dict[str, str]:
    return {}


class DataSource(models.Model):
    """Where a batch's rows come from and where tracking numbers go back to."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    # File sources: a path relative to SHIPOPS_SOURCE_ROOT (never outside it).
    file_path = models.CharField(max_length=500, blank=True)
    sheet_name = models.CharField(
        max_length=120, blank=True, help_text="Excel only; blank means the first sheet."
    )
    # Database sources: a DATABASES alias and a table checked by introspection.
    db_alias = models.CharField(max_length=64, blank=True, default="default")
    table_name = models.CharField(max_length=128, blank=True)
    key_column = models.CharField(
        max_length=128, blank=True, help_text="Blank means the row number is the key."
    )
    column_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text="Source column -> shipment field, overriding the recognised header names.",
    )
    tracking_column = models.CharField(max_length=128, default="tracking_number")
    shipped_at_column = models.CharField(max_length=128, default="shipped_at")
    default_service_code = models.CharField(max_length=3, default="03")
    default_packaging_code = models.CharField(max_length=3, default="02")
    default_weight_lbs = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Used when a row gives no weight.",
    )
    ship_from_override = models.JSONField(default=default_ship_from_override, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="datasource_kind_valid", condition=Q(kind__in=SourceKind.values)
            ),
            models.CheckConstraint(
                name="datasource_location_present",
                condition=(
                    Q(kind=SourceKind.DATABASE, table_name__gt="")
                    | (Q(kind__in=[SourceKind.CSV, SourceKind.EXCEL]) & Q(file_path__gt=""))
                ),
                violation_error_message=(
                    "A file source needs a file path; a database source needs a table."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def location(self) -> str:
        """Return where the rows live, as an operator would describe it."""
        if self.kind == SourceKind.DATABASE:
            return f"{self.db_alias or 'default'}:{self.table_name}"
        if self.kind == SourceKind.EXCEL and self.sheet_name:
            return f"{self.file_path} [{self.sheet_name}]"
        return self.file_path
