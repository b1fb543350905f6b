"""Which adapter class reads which kind of source."""

from __future__ import annotations

from datasources.adapters.base import SourceAdapter
from datasources.adapters.csv_file import CsvAdapter
from datasources.adapters.db_table import TableAdapter
from datasources.adapters.excel_file import ExcelAdapter
from datasources.errors import SourceError
from datasources.models import DataSource, SourceKind

ADAPTERS: dict[str, type[SourceAdapter]] = {
    SourceKind.CSV: CsvAdapter,
    SourceKind.EXCEL: ExcelAdapter,
    SourceKind.DATABASE: TableAdapter,
}


def get_adapter(source: DataSource) -> SourceAdapter:
    """Return the adapter for the data source's kind."""
    try:
        adapter_class = ADAPTERS[source.kind]
    except KeyError:
        raise SourceError(
            "kind_unknown",
            f'The data source "{source.name}" has the kind "{source.kind}", which ShipOps cannot '
            "read.",
            source=source.name,
        ) from None
    return adapter_class(source)
