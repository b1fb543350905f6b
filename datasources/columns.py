"""Which column feeds which shipment field: recognised headers plus the source's own mapping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from datasources.errors import SourceError
from datasources.headers import (
    ADDRESS_1,
    CITY,
    FIELD_LABELS,
    FIELDS,
    RECIPIENT,
    WEIGHT,
    accepted_names,
    find_column,
    normalise_header,
    recognise,
)
from datasources.models import DataSource

IGNORE = {"", "ignore", "-", "none"}


@dataclass(frozen=True)
class ColumnMap:
    """The column (and its unit, if the header names one) of each mapped shipment field."""

    fields: dict[str, tuple[str, str]]

    def column(self, field: str) -> str:
        """Return the column of ``field``, or "" when no column feeds it."""
        return self.fields.get(field, ("", ""))[0]

    def unit(self, field: str) -> str:
        """Return the unit the column's header names ("kg" for "Weight (kg)"), or ""."""
        return self.fields.get(field, ("", ""))[1]


def resolve_columns(headers: Sequence[str], source: DataSource) -> ColumnMap:
    """Return the column map for a header, or raise SourceError for a configuration problem."""
    mapping = json.dumps(source.column_mapping or {})
    return _resolve(
        tuple(h for h in headers if h),
        mapping,
        source.default_weight_lbs is not None,
        (source.tracking_column, source.shipped_at_column),
        source.key_column,
        source.location,
    )


def _target(value: object) -> tuple[str, str] | None:
    text = normalise_header(str(value))
    if text in FIELDS:
        return text, ""
    return recognise(text)


def _error(code: str, message: str, display: str) -> SourceError:
    return SourceError(code, message, source=display)


@lru_cache(maxsize=64)
def _resolve(
    headers: tuple[str, ...],
    mapping_json: str,
    has_default_weight: bool,
    writeback: tuple[str, str],
    key_column: str,
    display: str,
) -> ColumnMap:
    fields: dict[str, tuple[str, str]] = {}
    claimed: set[str] = set()
    mapped_away: set[str] = set()  # columns the mapping leaves out ("ignore")
    for column, target in json.loads(mapping_json).items():
        real = find_column(headers, column)
        if real is None:
            raise _error(
                "mapping_column_missing",
                f'The column mapping names "{column}", but "{display}" has no such column.',
                display,
            )
        claimed.add(real)
        if target is None or normalise_header(str(target)) in IGNORE:
            mapped_away.add(real)
            continue
        resolved = _target(target)
        if resolved is None:
            raise _error(
                "mapping_invalid",
                f'The column mapping sends "{column}" to "{target}", which is not a shipment '
                f"field; use one of {', '.join(FIELDS)}.",
                display,
            )
        if resolved[0] in fields:
            raise _error(
                "mapping_invalid",
                f'The column mapping sends both "{fields[resolved[0]][0]}" and "{real}" to '
                f'"{resolved[0]}".',
                display,
            )
        fields[resolved[0]] = (real, resolved[1])
    _refuse_writeback_over_data(headers, writeback, key_column, fields, mapped_away, display)
    claimed.update(filter(None, (find_column(headers, name) for name in writeback)))
    _recognise_rest(headers, claimed, fields, display)
    required = [RECIPIENT, ADDRESS_1, CITY] + ([] if has_default_weight else [WEIGHT])
    missing = [field for field in required if field not in fields]
    if missing:
        wanted = "; ".join(f"{FIELD_LABELS[field]} ({accepted_names(field)})" for field in missing)
        raise _error(
            "missing_columns",
            f'"{display}" has no column for: {wanted}. Rename the columns or map them in the '
            "data source's column mapping.",
            display,
        )
    return ColumnMap(fields)


def _recognise_rest(
    headers: tuple[str, ...],
    claimed: set[str],
    fields: dict[str, tuple[str, str]],
    display: str,
) -> None:
    """Add the fields that unclaimed headers name, refusing two columns for one field."""
    found: dict[str, tuple[str, str]] = {}
    for header in headers:
        recognised = recognise(header) if header not in claimed else None
        if recognised is None or recognised[0] in fields:
            continue
        field, unit = recognised
        if field in found:
            raise _error(
                "mapping_ambiguous",
                f'Columns "{found[field][0]}" and "{header}" of "{display}" both look like the '
                f"{FIELD_LABELS[field]}; map one of them in the data source's column mapping.",
                display,
            )
        found[field] = (header, unit)
    fields.update(found)


WRITEBACK_LABELS = ("tracking column", "shipped-at column")


def _refuse_writeback_over_data(
    headers: tuple[str, ...],
    writeback: tuple[str, str],
    key_column: str,
    fields: dict[str, tuple[str, str]],
    mapped_away: set[str],
    display: str,
) -> None:
    """Refuse write-back columns that would overwrite the source's own data.

    Tracking numbers and ship times go into the two write-back columns, so
    neither may be the key column, a column a shipment field is read from
    (mapped, or recognised by its name unless the mapping leaves it out), or
    the other write-back column.
    """
    tracking, shipped_at = writeback
    if _same_column(headers, tracking, shipped_at):
        raise _error(
            "writeback_columns",
            f'The tracking column and the shipped-at column are both "{tracking}": each needs '
            "a column of its own.",
            display,
        )
    read_from = {column: field for field, (column, _unit) in fields.items()}
    for label, name in zip(WRITEBACK_LABELS, writeback, strict=True):
        if key_column and _same_column(headers, name, key_column):
            raise _error(
                "writeback_columns",
                f'The {label} "{name}" is the key column: ShipOps would write over the keys '
                "that name each order. Choose another column.",
                display,
            )
        real = find_column(headers, name)
        field = read_from.get(real or "")
        if real and field is None and real not in mapped_away:
            field = (recognise(real) or (None, ""))[0]
        if field is not None:
            raise _error(
                "writeback_columns",
                f'The {label} "{name}" holds each shipment\'s {FIELD_LABELS[field]}: ShipOps '
                "would write over it. Choose another column (ShipOps adds a missing column to "
                "a file).",
                display,
            )


def _same_column(headers: tuple[str, ...], first: str, second: str) -> bool:
    """Whether two column names name one column, present in ``headers`` or to be added."""
    if not first or not second:
        return False
    found = find_column(headers, first), find_column(headers, second)
    if any(found):
        return found[0] == found[1]
    return normalise_header(first) == normalise_header(second)
