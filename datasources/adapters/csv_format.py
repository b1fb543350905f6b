"""How a CSV file is written: its encoding, BOM and delimiter, found from its content."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from datasources.adapters.csv_records import CsvSyntaxError, iter_records
from datasources.adapters.rows import known_names_in
from datasources.sniff import TextEncoding, detect_text_encoding

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_CHARS = 64 * 1024
SAMPLE_RECORDS = 20


@dataclass(frozen=True)
class CsvFormat:
    """The encoding and delimiter a CSV file is read and written with."""

    encoding: TextEncoding
    delimiter: str


def _score(sample: str, delimiter: str, known: Collection[str]) -> tuple[int, float, int]:
    """Score ``delimiter`` on the sample: (known column names in one row, consistency, width).

    Known names come first: a write-back adds two cells to the header and to
    the shipped lines only, and a decimal comma splits every line of a
    semicolon file in two, so consistency alone can pick "," for a semicolon
    file that ShipOps itself half wrote back. The header names do not change.
    ``known`` adds the names the data source's settings use (its column
    mapping, key and tracking columns) to those ShipOps recognises.
    """
    widths = []
    named = 0
    try:
        for record in islice(iter_records(io.StringIO(sample), delimiter), SAMPLE_RECORDS):
            if any(value.strip() for value in record.values):
                widths.append(len(record.values))
                hits = known_names_in([value.strip() for value in record.values], known)
                if hits >= 2:  # a header names two known columns at least (find_header_row)
                    named = max(named, hits)
    except CsvSyntaxError:
        # The sample may end inside a quoted field; the records before it still count.
        pass
    if not widths:
        return 0, 0.0, 0
    width, count = Counter(widths).most_common(1)[0]
    if width < 2:
        return 0, 0.0, 0
    return named, count / len(widths), width


def sniff_delimiter(sample: str, known: Collection[str] = ()) -> str:
    """Return the delimiter whose split names the most known columns, then the most consistent."""
    scores = {delimiter: _score(sample, delimiter, known) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: scores[delimiter])
    return best if scores[best][2] else ","


def detect_format(path: Path, display: str, known: Collection[str] = ()) -> CsvFormat:
    """Return the file's encoding and delimiter, or raise SourceError for a file that is not CSV.

    ``known``: column names the data source's settings use (``known_columns``).
    """
    encoding = detect_text_encoding(path, display)
    with path.open(encoding=encoding.python_codec, newline="") as stream:
        sample = stream.read(SAMPLE_CHARS)
    return CsvFormat(encoding, sniff_delimiter(sample, known))
