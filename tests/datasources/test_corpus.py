"""Every bad input gets a clear file-level error or a per-row message, and stays byte-identical."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from datasources.adapters import WriteBack, get_adapter
from datasources.errors import SourceError
from datasources.mapping import MappedRow, read_shipments
from datasources.models import SourceKind
from tests.datasources.corpus import CASES, Case
from tests.factories import DataSourceFactory

SHIPPED_AT = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
# Column mapping problems refuse the batch, but the file itself could still be written.
MAPPING_CODES = {"missing_columns", "mapping_column_missing", "mapping_ambiguous"}


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25
    assert len({case.id for case in CASES}) == len(CASES)


def _read(case: Case, path: Path) -> tuple[SourceError | None, list[MappedRow]]:
    kind = SourceKind.EXCEL if case.kind == "excel" else SourceKind.CSV
    source = DataSourceFactory.build(kind=kind, file_path=case.file_name, **case.options)
    try:
        return None, list(read_shipments(source))
    except SourceError as error:
        if error.code not in MAPPING_CODES:
            update = WriteBack("1", "1Z999AA10123456784", SHIPPED_AT)
            with pytest.raises(SourceError):
                get_adapter(source).write_back([update])
        return error, []


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, write_source: Callable[[str, bytes], Path]) -> None:
    data = case.build()
    path = write_source(case.file_name, data)

    error, rows = _read(case, path)

    assert path.read_bytes() == data
    if case.code:
        assert error is not None, "expected the file to be refused"
        assert error.code == case.code, error.message
        assert case.file_name in error.message
        assert error.message.endswith(".")
    else:
        assert error is None, error.message if error else ""
        messages = [e.message for row in rows for e in row.errors]
        assert any(case.row_error in message for message in messages), messages
        assert any(row.is_valid for row in rows), "the good rows still map"
