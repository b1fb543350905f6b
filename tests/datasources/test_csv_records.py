"""The CSV tokenizer: the csv module's values, the file's exact text, whatever the chunking."""

from __future__ import annotations

import csv
import io
import random

import pytest

from datasources.adapters import csv_records
from datasources.adapters.csv_records import CsvSyntaxError, iter_records

TRICKY = [
    'a,b,c\r\n1,"x, y",3\r\n4,"multi\nline",6\r\n"q""uote",12" box,\n\nlast,row',
    'x\ry\r\nz\n"",""\r\n',
    'a,b\n"x"junk,y\n',
    "\ufeffnot,a,bom\n",
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64 * 1024])
def test_records_keep_their_text_and_match_the_csv_module(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(csv_records, "CHUNK_CHARS", chunk)
    for text in TRICKY:
        records = list(iter_records(io.StringIO(text), ","))

        assert "".join(record.text(",") for record in records) == text
        expected = [row or [""] for row in csv.reader(io.StringIO(text, newline=""))]
        assert [record.values for record in records] == expected


def test_random_text_parses_like_the_csv_module() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choices('ab;"\n\r ', k=rng.randint(0, 16)))
        try:
            records = list(iter_records(io.StringIO(text), ";"))
        except CsvSyntaxError:
            continue  # an unclosed quote: the csv module guesses, ShipOps refuses
        assert "".join(record.text(";") for record in records) == text
        expected = [row or [""] for row in csv.reader(io.StringIO(text, newline=""), delimiter=";")]
        assert [record.values for record in records] == expected


def test_line_numbers_count_quoted_newlines() -> None:
    text = 'h\n"a\nb"\nc\n"never closed\n'

    records = iter_records(io.StringIO(text), ",")

    assert [next(records).line for _ in range(3)] == [1, 2, 4]
    with pytest.raises(CsvSyntaxError) as raised:
        next(records)
    assert raised.value.line == 5


def test_a_runaway_record_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_records, "MAX_RECORD_CHARS", 100)

    with pytest.raises(CsvSyntaxError, match="longer than 100 characters"):
        list(iter_records(io.StringIO('a\n"' + "x" * 500), ","))
