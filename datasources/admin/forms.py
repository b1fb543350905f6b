"""The data source form: a file uploaded or named under the source folder, or a table; a mapping."""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.forms.models import construct_instance
from django.http import QueryDict

from datasources.adapters import get_adapter
from datasources.columns import resolve_columns
from datasources.errors import SourceError
from datasources.files import discard_upload, existing_source_file, save_upload, source_root
from datasources.models import DataSource, SourceKind
from datasources.service_codes import clean_packaging, clean_service
from datasources.ship_from import SHIP_FROM_KEYS, checked_ship_from, ship_from_override_problem
from datasources.signals import LOCATION_FIELDS, location_change_refusals
from datasources.units import parse_weight_lbs
from datasources.validation import Invalid

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
# Codes of SourceError that a change of the column mapping fixes.
MAPPING_CODES = {
    "mapping_column_missing",
    "mapping_invalid",
    "mapping_ambiguous",
    "missing_columns",
}
MAPPING_HELP = (
    'A JSON object from source column to shipment field, such as {"Ship To": "recipient_name"}; '
    'map a column to "ignore" to leave it out. Columns with usual names are recognised without it.'
)
SHIP_FROM_HELP = (
    "Blank ships from the warehouse in the settings. To ship from elsewhere, a JSON object of "
    'the address fields that differ, such as {"city": "Denver", "state": "CO", "postal_code": '
    f'"80202", "address_lines": ["1 Depot Rd"]}}; the fields are {", ".join(SHIP_FROM_KEYS)}.'
)


def _default_code(value: str, cleaner: Callable[[str], str]) -> str:
    """Return a default service or packaging as its UPS code, or refuse one UPS does not have."""
    try:
        return cleaner(value)
    except Invalid as invalid:
        raise forms.ValidationError(f'"{value}" {invalid.problem}.') from None


def upload_kind(upload: UploadedFile) -> str:
    """Return the kind of source an uploaded file is, by its name (its content is checked later)."""
    return (
        SourceKind.EXCEL
        if Path(upload.name or "").suffix.lower() in EXCEL_SUFFIXES
        else SourceKind.CSV
    )


class DataSourceForm(forms.ModelForm):
    """Add or change a data source; it is saved only once ShipOps can read its rows."""

    upload = forms.FileField(
        required=False,
        label="Upload a file",
        help_text="A CSV (.csv, .txt, .tsv) or Excel (.xlsx, .xlsm) file; ShipOps keeps it in "
        "the source folder.",
    )

    class Meta:
        model = DataSource
        fields = [
            "name", "kind", "file_path", "sheet_name", "db_alias", "table_name", "key_column",
            "column_mapping", "tracking_column", "shipped_at_column", "default_service_code",
            "default_packaging_code", "default_weight_lbs", "ship_from_override",
        ]  # fmt: skip
        widgets = {"column_mapping": forms.Textarea(attrs={"rows": 5, "cols": 70})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stored = ""  # the upload stored by this form, while it is not yet saved
        self._path_given = ""  # the file path typed beside that upload
        if "file_path" in self.fields:
            self.fields["file_path"].help_text = (
                f"Or the path of a file already in the source folder ({source_root()}), "
                "such as orders/today.csv."
            )
        if "db_alias" in self.fields:
            self.fields["db_alias"].label = "Database alias"
        if "key_column" in self.fields:
            self.fields["key_column"].help_text = (
                "The column that names each order. Blank: in a file, the row number is the key; "
                "in a table, its primary key (a table without one needs a key column)."
            )
        if "column_mapping" in self.fields:
            self.fields["column_mapping"].help_text = MAPPING_HELP
        if "ship_from_override" in self.fields:
            self.fields["ship_from_override"].label = "Ship-from override"
            self.fields["ship_from_override"].help_text = SHIP_FROM_HELP

    def clean_column_mapping(self) -> dict[str, Any]:
        mapping = self.cleaned_data.get("column_mapping") or {}
        if not isinstance(mapping, dict) or not all(
            isinstance(column, str) and (target is None or isinstance(target, str))
            for column, target in mapping.items()
        ):
            raise forms.ValidationError(
                "The column mapping must be a JSON object of column names to field names, such "
                'as {"Ship To": "recipient_name"}.'
            )
        return mapping

    def clean_default_service_code(self) -> str:
        return _default_code(self.cleaned_data.get("default_service_code", ""), clean_service)

    def clean_default_packaging_code(self) -> str:
        return _default_code(self.cleaned_data.get("default_packaging_code", ""), clean_packaging)

    def clean_default_weight_lbs(self) -> Decimal | None:
        weight = self.cleaned_data.get("default_weight_lbs")
        if weight is None:
            return None
        try:
            parse_weight_lbs(str(weight))
        except Invalid as invalid:
            raise forms.ValidationError(f"{weight} lb {invalid.problem}.") from None
        return weight

    def clean_ship_from_override(self) -> dict[str, Any]:
        override = self.cleaned_data.get("ship_from_override")
        if override is None:
            return {}
        # Every preview and shipment of the source would stop on it (or ignore an unknown key).
        if problem := ship_from_override_problem(override):
            raise forms.ValidationError(f"The ship-from override {problem}.")
        checked, problems = checked_ship_from(override)
        if problems:
            raise forms.ValidationError(problems)
        return checked

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Before an upload is stored: a refused change leaves nothing behind.
        if refusals := self._location_change_refusals(cleaned):
            for refusal in refusals:
                self.add_error(None, refusal)
            return cleaned
        kind, upload = cleaned.get("kind"), cleaned.get("upload")
        if kind == SourceKind.DATABASE:
            if upload:
                self.add_error(
                    "upload", "A database source reads a table: upload only CSV or Excel files."
                )
            if not cleaned.get("table_name"):
                self.add_error("table_name", "A database source needs the name of its table.")
        elif kind in (SourceKind.CSV, SourceKind.EXCEL):
            self._clean_file(cleaned, kind, upload)
        if not self.errors:
            self._check_readable(cleaned)
        if self.errors and self._stored:
            # A refused upload is not kept: the form asks for the file again.
            discard_upload(self._stored)
            self._stored = ""
            self._show_file_path(self._path_given)
        return cleaned

    def validate_constraints(self) -> None:
        # A refused upload says what is wrong with the file; "a file source needs a file
        # path" (the model's constraint) would only add to it.
        if not self.has_error("upload"):
            super().validate_constraints()

    def _location_change_refusals(self, cleaned: dict[str, Any]) -> list[str]:
        if self.instance.pk is None:
            return []
        fields = [name for name in LOCATION_FIELDS if name in self.changed_data]
        if cleaned.get("upload") and "file_path" not in fields:
            fields.append("file_path")
        return location_change_refusals(self.instance, fields) if fields else []

    def _clean_file(self, cleaned: dict[str, Any], kind: str, upload: UploadedFile | None) -> None:
        if upload is not None:
            if upload_kind(upload) != kind:
                wanted = str(SourceKind(upload_kind(upload)).label)
                article = "an" if wanted[:1].lower() in "aeiou" else "a"
                self.add_error(
                    "upload",
                    f'"{upload.name}" is {article} {wanted}: choose that kind, or another file.',
                )
            elif not self.errors and not self._name_taken(cleaned.get("name")):
                self._store(cleaned, upload)
            return
        if not cleaned.get("file_path"):
            self.add_error(
                "file_path", "Upload a file, or give the path of one in the source folder."
            )
            return
        try:
            existing_source_file(cleaned["file_path"])
        except SourceError as error:
            self.add_error("file_path", error.message)

    def _name_taken(self, name: str | None) -> bool:
        # The unique check runs after clean(); storing the file first would leave it orphaned.
        return DataSource.objects.filter(name=name).exclude(pk=self.instance.pk).exists()

    def _store(self, cleaned: dict[str, Any], upload: UploadedFile) -> None:
        self._path_given = cleaned.get("file_path", "")
        try:
            self._stored = cleaned["file_path"] = save_upload(upload, name=upload.name or "")
        except SourceError as error:
            self.add_error("upload", error.message)
            return
        self._show_file_path(self._stored)

    def _show_file_path(self, file_path: str) -> None:
        """Show ``file_path`` in the form, if it is shown again."""
        data = QueryDict(mutable=True)
        data.update(self.data)
        data[self.add_prefix("file_path")] = file_path
        self.data = data

    def _check_readable(self, cleaned: dict[str, Any]) -> None:
        probe = construct_instance(self, copy(self.instance))
        try:
            resolve_columns(get_adapter(probe).headers(), probe)
        except SourceError as error:
            field = "column_mapping" if error.code in MAPPING_CODES else None
            self.add_error(field, error.message)
