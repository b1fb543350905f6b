"""What a data source's admin page shows about its rows: mapping, sample and validation summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import islice

from datasources.adapters import SourceAdapter, SourceRow, get_adapter
from datasources.columns import resolve_columns
from datasources.errors import SourceError
from datasources.headers import FIELD_LABELS, find_column
from datasources.mapping import MappedRow, build_shipment
from datasources.models import DataSource
from ups.service_codes import service_name

SAMPLE_ROWS = 10
# The summary reads at most this many rows, so that the page stays quick on a huge table.
CHECKED_ROWS = 10_000
COMMON_ERRORS = 5


@dataclass(frozen=True)
class MappedColumn:
    """A source column and the shipment field it feeds."""

    column: str
    field: str
    label: str
    unit: str
    explicit: bool


@dataclass(frozen=True)
class SampleRow:
    """One source row as the job would take it."""

    number: int
    key: str
    recipient: str
    city_state: str
    service: str
    weight: str
    errors: list[str]
    tracking: str


@dataclass
class Inspection:
    """A data source read once: its problem, or its mapping, sample rows and counts."""

    problem: str = ""
    headers: list[str] = field(default_factory=list)
    mapping: list[MappedColumn] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    writeback: list[tuple[str, str, bool]] = field(default_factory=list)
    writeback_problem: str = ""
    sample: list[SampleRow] = field(default_factory=list)
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    already_shipped: int = 0
    common_errors: list[tuple[str, int]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    checked_all: bool = True


def inspect_source(source: DataSource) -> Inspection:
    """Read ``source`` (streaming, at most CHECKED_ROWS rows) and describe what a job would get."""
    inspection = Inspection()
    try:
        adapter = get_adapter(source)
        inspection.headers = adapter.headers()
        columns = resolve_columns(inspection.headers, source)
        explicit = {find_column(inspection.headers, name) for name in source.column_mapping or {}}
        inspection.mapping = [
            MappedColumn(column, name, FIELD_LABELS[name], unit, column in explicit)
            for name, (column, unit) in columns.fields.items()
        ]
        used = {mapped.column for mapped in inspection.mapping}
        for name, what in (
            (source.tracking_column, "tracking number"),
            (source.shipped_at_column, "ship time"),
        ):
            column = find_column(inspection.headers, name)
            inspection.writeback.append((column or name, what, column is not None))
            used.add(column or name)
        inspection.unused = [header for header in inspection.headers if header not in used]
        errors: Counter[str] = Counter()
        rows = adapter.iter_rows()
        for row in islice(rows, CHECKED_ROWS):
            mapped = build_shipment(row, source, columns=columns)
            inspection.rows += 1
            # Each row counts once, as a job would take it: a row already shipped is left
            # out whatever its content, so it is neither ready nor an error.
            if mapped.already_shipped_tracking:
                inspection.already_shipped += 1
            else:
                inspection.valid += mapped.is_valid
                inspection.invalid += not mapped.is_valid
                # Rows per problem: a row with two errors in one field counts once.
                errors.update({FIELD_LABELS.get(e.field, e.field) for e in mapped.errors})
            if len(inspection.sample) < SAMPLE_ROWS:
                inspection.sample.append(_sample(row, mapped))
        inspection.checked_all = next(rows, None) is None
        inspection.common_errors = errors.most_common(COMMON_ERRORS)
        inspection.notices = adapter.notices()
        inspection.writeback_problem = _writeback_problem(adapter)
    except (SourceError, OSError) as error:
        inspection.problem = getattr(error, "message", None) or str(error)
    return inspection


def _writeback_problem(adapter: SourceAdapter) -> str:
    try:
        adapter.check_write_back()
    except SourceError as error:
        return error.message
    return ""


def _sample(row: SourceRow, mapped: MappedRow) -> SampleRow:
    # Valid or not, a row's fields are read and written alike (a row with errors has no
    # shipment, but what could be read of it); a field that is itself wrong is left
    # empty, and the row's errors quote its cell.
    read = mapped.as_read
    return SampleRow(
        number=row.number,
        key=row.key,
        recipient=read.recipient,
        city_state=", ".join(filter(None, (read.city, read.state))),
        service=service_name(read.service_code) if read.service_code else "",
        weight="" if read.weight_lbs is None else f"{read.weight_lbs} lb",
        errors=[error.message for error in mapped.errors],
        tracking=mapped.already_shipped_tracking,
    )
