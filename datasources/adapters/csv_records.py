"""A CSV tokenizer that keeps each field's exact text, so a rewrite changes only what it must.

Python's csv module gives values but not the text they came from; writing
its rows back would requote every cell. Here each record keeps its raw
fields and its line ending: ``delimiter.join(raw) + terminator`` is the
record exactly as it was in the file. Values follow the csv module's rules
(``""`` inside quotes is one quote, a quote inside an unquoted field is
literal, newlines inside quotes belong to the value).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

QUOTE = '"'
CHUNK_CHARS = 64 * 1024
MAX_RECORD_CHARS = 4 << 20
QUOTED = re.compile(r'"[^"]*+(?:""[^"]*+)*+"')
NEWLINE = re.compile(r"[\r\n]")
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class CsvSyntaxError(ValueError):
    """The text cannot be split into records; ``line`` is where the bad record starts."""

    def __init__(self, problem: str, line: int):
        super().__init__(problem)
        self.problem = problem
        self.line = line


@dataclass(slots=True)
class Record:
    """One record: its raw fields, their values, its line ending and its first line number."""

    raw: list[str]
    values: list[str]
    terminator: str
    line: int

    def text(self, delimiter: str) -> str:
        """Return the record as it stands in the file."""
        return delimiter.join(self.raw) + self.terminator


def _terminator(buffer: str, index: int, final: bool) -> tuple[str, int] | None:
    if index >= len(buffer):
        return ("", index) if final else None
    if buffer[index] == "\n":
        return "\n", index + 1
    if index + 1 < len(buffer):
        return ("\r\n", index + 2) if buffer[index + 1] == "\n" else ("\r", index + 1)
    return ("\r", index + 1) if final else None


class _Scanner:
    def __init__(self, delimiter: str):
        self.delimiter = delimiter
        self.unquoted = re.compile(f"[^{re.escape(delimiter)}\r\n]*")

    def _unquoted_end(self, buffer: str, index: int) -> int:
        match = self.unquoted.match(buffer, index)
        return match.end() if match else index

    def scan(self, buffer: str, start: int, final: bool, line: int) -> tuple[Record, int] | None:
        """Return the record at ``start`` and where the next begins, or None to read more."""
        newline = NEWLINE.search(buffer, start)
        end = newline.start() if newline else len(buffer)
        if newline is None and not final:
            return None
        if buffer.find(QUOTE, start, end) == -1:
            ending = _terminator(buffer, end, final)
            if ending is None:
                return None
            raw = buffer[start:end].split(self.delimiter)
            return Record(raw, list(raw), ending[0], line), ending[1]
        return self._scan_quoted(buffer, start, final, line)

    def _scan_quoted(
        self, buffer: str, start: int, final: bool, line: int
    ) -> tuple[Record, int] | None:
        raw: list[str] = []
        values: list[str] = []
        index = start
        while True:
            if buffer.startswith(QUOTE, index):
                match = QUOTED.match(buffer, index)
                if match is None:
                    if not final:
                        return None
                    raise CsvSyntaxError("a quote is opened and never closed", line)
                after = self._unquoted_end(buffer, match.end())
                value = match[0][1:-1].replace('""', '"') + buffer[match.end() : after]
            else:
                after = self._unquoted_end(buffer, index)
                value = buffer[index:after]
            if after >= len(buffer) and not final:
                return None
            raw.append(buffer[index:after])
            values.append(value)
            if after < len(buffer) and buffer[after] == self.delimiter:
                index = after + 1
                continue
            ending = _terminator(buffer, after, final)
            if ending is None:
                return None
            return Record(raw, values, ending[0], line), ending[1]


def _line_breaks(record: Record) -> int:
    inner = sum(field.count("\n") + field.count("\r") - field.count("\r\n") for field in record.raw)
    return inner + (1 if record.terminator else 0)


def swallowed_row(record: Record, *, width: int, delimiter: str) -> tuple[int, str] | None:
    """Return (line number, text) of a line inside a quoted value that looks like a whole row.

    Only lines after a line break inside a field count, and only when they hold
    ``width - 1`` delimiters or more (a row of a ``width``-column file): an
    address on two lines, or a note with a comma, holds far fewer.
    """
    if width < 3:
        return None
    line = record.line
    for field in record.raw:
        lines = LINE_BREAK.split(field)
        for offset, text in enumerate(lines[1:], start=1):
            if text.count(delimiter) >= width - 1:
                return line + offset, text
        line += len(lines) - 1
    return None


def iter_records(stream: TextIO, delimiter: str) -> Iterator[Record]:
    """Yield the records of a text stream opened with ``newline=""``, reading it in chunks."""
    scanner = _Scanner(delimiter)
    buffer, position, final, line = "", 0, False, 1
    while True:
        found = scanner.scan(buffer, position, final, line) if position < len(buffer) else None
        if found is None:
            if final:
                return
            if len(buffer) - position > MAX_RECORD_CHARS:
                raise CsvSyntaxError(
                    f"a row is longer than {MAX_RECORD_CHARS:,} characters "
                    "(a quote that is never closed?)",
                    line,
                )
            chunk = stream.read(CHUNK_CHARS)
            buffer, position, final = buffer[position:] + chunk, 0, not chunk
            continue
        record, position = found
        line += _line_breaks(record)
        yield record
