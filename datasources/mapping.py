"""Turn a source row into a Shipment or into per-row errors; never raise for a row's content."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TypeVar

from datasources import headers as h
from datasources.adapters import SourceRow, get_adapter
from datasources.adapters.base import existing_tracking
from datasources.cell_errors import text_problem
from datasources.columns import ColumnMap, resolve_columns
from datasources.geo import clean_country, clean_postal_code, clean_state, needs_region
from datasources.models import DataSource
from datasources.service_codes import clean_packaging, clean_service
from datasources.shipment import Shipment
from datasources.units import parse_length_in, parse_weight_lbs
from datasources.validation import (
    MAX_CITY,
    MAX_KEY,
    MAX_NAME,
    Invalid,
    RowError,
    check_size,
    clean_email,
    clean_phone,
    clean_text,
    key_error,
    value_error,
)

T = TypeVar("T")
POSTAL_REQUIRED = {"US", "PR", "CA"}
DIMENSIONS = (h.LENGTH, h.WIDTH, h.HEIGHT)
TEXT_SHOWN = 100  # characters of a row's recipient or city kept to tell the row apart


@dataclass(frozen=True)
class FieldsAsRead:
    """What tells people which order a row is, as far as its cells could be read.

    A valid row's fields are its shipment's. A row with errors has no
    shipment, yet each field is read as the shipment would have it wherever
    its own cell is valid: the recipient and city as written (spaces
    collapsed, cut to TEXT_SHOWN, even when too long for UPS), the state's
    code, the service's code (the source's default when the row names none),
    the weight in pounds (the default weight when the row gives none). A
    state, service or weight that is itself wrong, and any cell holding an
    error value (#N/A), is left empty: the row's errors name it.
    """

    recipient: str = ""
    city: str = ""
    state: str = ""
    service_code: str = ""
    weight_lbs: Decimal | None = None


@dataclass(frozen=True)
class MappedRow:
    """A source row with its shipment (None when invalid), its errors, and any tracking held."""

    row: SourceRow
    shipment: Shipment | None
    errors: list[RowError]
    already_shipped_tracking: str
    # So that a person can tell which order a row is, with or without a shipment.
    as_read: FieldsAsRead = FieldsAsRead()

    @property
    def is_valid(self) -> bool:
        """Return True when the row became a shipment."""
        return self.shipment is not None

    @property
    def is_shippable(self) -> bool:
        """Return True for a valid row whose source holds no tracking number yet."""
        return self.is_valid and not self.already_shipped_tracking


class _RowMapper:
    """Collect each field's clean value or its error for one row."""

    def __init__(self, row: SourceRow, columns: ColumnMap):
        self.row = row
        self.columns = columns
        self.errors = [RowError("", "row", issue) for issue in row.issues]
        # Fields whose cell holds no value (#N/A): one error each, and no default in its place.
        self.unusable = {
            field
            for field, (column, _unit) in columns.fields.items()
            if not self.holds_data(column, field)
        }

    def holds_data(self, column: str, field: str) -> bool:
        """Return whether ``column`` holds data; record the error when it holds an error value."""
        problem = self.row.cell_problems.get(column) or text_problem(
            self.row.values.get(column, "")
        )
        if problem:
            self.errors.append(RowError(column, field, f'Column "{column}" {problem}.'))
        return not problem

    def raw(self, field: str) -> str:
        """Return the cell that feeds ``field``, or "" when no column does."""
        column = self.columns.column(field)
        return self.row.values.get(column, "") if column else ""

    def as_written(self, field: str) -> str:
        """Return the text of ``field``'s cell, spaces collapsed and cut to TEXT_SHOWN."""
        return "" if field in self.unusable else " ".join(self.raw(field).split())[:TEXT_SHOWN]

    def failed(self, field: str) -> bool:
        """Return whether ``field``'s cell has an error recorded."""
        return any(error.field == field for error in self.errors)

    def clean(self, field: str, cleaner: Callable[[str], T], *, required: str = "") -> T | None:
        """Return ``cleaner(value)``; record an error for a bad value or a missing required one."""
        if field in self.unusable:
            return None
        column, value = self.columns.column(field), self.raw(field)
        if not value.strip():
            if required:
                self.errors.append(self.missing(field, required))
            return None
        try:
            return cleaner(value)
        except Invalid as invalid:
            self.errors.append(value_error(column, field, value, invalid.problem))
            return None

    def missing(self, field: str, why: str) -> RowError:
        """Return the error for an empty required cell (or a missing column)."""
        column = self.columns.column(field)
        if column:
            return RowError(column, field, f'Column "{column}" is empty; {why}.')
        return RowError("", field, f"There is no {h.FIELD_LABELS[field]} column; {why}.")

    def text(self, field: str, limit: int, *, required: bool = False) -> str:
        """Return a text field cleaned and length-checked, or "" with an error recorded."""
        label = h.FIELD_LABELS[field]
        why = f"a {label} is required" if required else ""
        return self.clean(field, partial(clean_text, limit=limit), required=why) or ""


def _default_weight(source: DataSource) -> tuple[Decimal | None, str]:
    """Return the source's default weight, or None and why a row without a weight has none."""
    why = "a weight is required (or set a default weight on the data source)"
    if source.default_weight_lbs is None:
        return None, why
    try:
        return parse_weight_lbs(str(source.default_weight_lbs)), ""
    except Invalid as invalid:
        given = source.default_weight_lbs
        return None, f"a weight is required: the data source's default weight, {given} lb, " + (
            invalid.problem
        )


def _default_code(value: str, cleaner: Callable[[str], str], what: str) -> tuple[str, str]:
    """Return the source's default service or packaging code, or "" and why a row has none."""
    try:
        return cleaner(value), ""
    except Invalid as invalid:
        return "", f'the data source\'s default {what}, "{value}", {invalid.problem}'


def _dimensions(mapper: _RowMapper) -> tuple[Decimal | None, ...]:
    given = [mapper.raw(field) for field in DIMENSIONS]
    if not any(given):
        return (None, None, None)
    sizes = []
    for field, value in zip(DIMENSIONS, given, strict=True):
        if not value and field not in mapper.unusable:
            mapper.errors.append(
                mapper.missing(field, "give length, width and height together, or none of them")
            )
        sizes.append(mapper.clean(field, partial(parse_length_in, unit=mapper.columns.unit(field))))
    length, width, height = sizes
    if length is not None and width is not None and height is not None:
        problem = check_size(length, width, height)
        if problem:
            column = mapper.columns.column(h.LENGTH)
            mapper.errors.append(
                RowError(column, "dimensions", f"The package is too big: {problem}.")
            )
    return length, width, height


def build_shipment(
    row: SourceRow, source: DataSource, *, columns: ColumnMap | None = None
) -> MappedRow:
    """Map and validate ``row`` into a Shipment, or into the errors that prevent one.

    Only a configuration problem shared by every row (a mapping naming a
    missing column) raises SourceError; call ``resolve_columns`` once first.
    """
    columns = columns or resolve_columns(list(row.values), source)
    m = _RowMapper(row, columns)
    if len(row.key) > MAX_KEY:  # stored cut and marked (jobs.services.creation.stored_key)
        key_column = h.find_column(row.values.keys(), source.key_column) or ""
        m.errors.append(key_error(row.key, key_column))
    country = m.clean(h.COUNTRY, clean_country) or "US"
    region_why = f"a state or province is required for {country} addresses"
    state = m.clean(
        h.STATE,
        partial(clean_state, country=country),
        required=region_why if needs_region(country) else "",
    )
    postal_code = m.clean(
        h.POSTAL_CODE,
        partial(clean_postal_code, country=country),
        required=f"a postal code is required for {country} addresses"
        if country in POSTAL_REQUIRED
        else "",
    )
    default_weight, weight_why = _default_weight(source)
    weight = m.clean(
        h.WEIGHT,
        partial(parse_weight_lbs, unit=columns.unit(h.WEIGHT)),
        required="" if default_weight is not None else weight_why,
    )
    if weight is None and not m.raw(h.WEIGHT) and h.WEIGHT not in m.unusable:
        weight = default_weight
    recipient = m.text(h.RECIPIENT, MAX_NAME, required=True)
    company = m.text(h.COMPANY, MAX_NAME)
    lines = (
        m.text(h.ADDRESS_1, MAX_NAME, required=True),
        m.text(h.ADDRESS_2, MAX_NAME),
        m.text(h.ADDRESS_3, MAX_NAME),
    )
    city = m.text(h.CITY, MAX_CITY, required=True)
    phone = m.clean(h.PHONE, partial(clean_phone, country=country)) or ""
    email = m.clean(h.EMAIL, clean_email) or ""
    service, service_why = _default_code(source.default_service_code, clean_service, "service")
    service = m.clean(h.SERVICE, clean_service, required=service_why) or service
    packaging, packaging_why = _default_code(
        source.default_packaging_code, clean_packaging, "packaging"
    )
    packaging = m.clean(h.PACKAGING, clean_packaging, required=packaging_why) or packaging
    reference = m.text(h.REFERENCE, MAX_NAME)
    length, width, height = _dimensions(m)
    tracking_column = h.find_column(row.values.keys(), source.tracking_column)
    # An error value there is no tracking number: the row would be left out as shipped.
    tracking = existing_tracking(row.values, source.tracking_column)
    if tracking_column and not m.holds_data(tracking_column, "tracking_number"):
        tracking = ""
    as_read = FieldsAsRead(
        recipient=m.as_written(h.RECIPIENT),
        city=m.as_written(h.CITY),
        state=state or "",
        service_code="" if m.failed(h.SERVICE) else service,
        weight_lbs=weight,
    )
    if m.errors or weight is None:
        return MappedRow(row, None, m.errors, tracking, as_read)
    shipment = Shipment(
        recipient_name=recipient,
        company=company,
        address_lines=tuple(line for line in lines if line),
        city=city,
        state=state or "",
        postal_code=postal_code or "",
        country=country,
        phone=phone,
        email=email,
        weight_lbs=weight,
        length_in=length,
        width_in=width,
        height_in=height,
        service_code=service,
        packaging_code=packaging,
        reference=reference,
    )
    return MappedRow(row, shipment, [], tracking, as_read)


def read_shipments(source: DataSource) -> Iterator[MappedRow]:
    """Read the source as a stream and yield every row mapped and validated."""
    adapter = get_adapter(source)
    columns = resolve_columns(adapter.headers(), source)
    for row in adapter.iter_rows():
        yield build_shipment(row, source, columns=columns)
