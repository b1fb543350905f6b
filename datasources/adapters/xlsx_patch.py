"""Change a few cells in a worksheet's XML text and leave every other byte as it was.

Loading and saving a workbook with openpyxl drops cached formula results,
charts, images and more; patching the sheet part keeps the other sheets,
styles, formulas, column widths and macros untouched. New cells are inline
strings, which a spreadsheet shows as text and never evaluates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from openpyxl.utils import column_index_from_string, get_column_letter

PREFIX = r"(?P<p>(?:[A-Za-z_][\w.-]*:)?)"
SHEET_DATA = re.compile(rf"<{PREFIX}sheetData\b[^>]*?>(?P<body>.*?)</(?P=p)sheetData>", re.S)
ROW = re.compile(rf"<{PREFIX}row\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=p)row>)", re.S)
CELL = re.compile(rf"<{PREFIX}c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=p)c>)", re.S)
DIMENSION = re.compile(r"(<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*?\bref\s*=\s*)([\"'])([^\"']*)\2")
CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
FORMULA = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?f\b")
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _attribute(attrs: str, name: str) -> str | None:
    match = re.search(rf"""(?:^|\s){name}\s*=\s*(["'])(.*?)\1""", attrs)
    return match[2] if match else None


@dataclass(frozen=True)
class NewCell:
    """Text for a cell; a new cell ``like_left`` takes the style of its left neighbour."""

    text: str
    like_left: bool = False


class PatchError(ValueError):
    """The sheet XML is not shaped as expected; the message says how."""


def _cell_xml(prefix: str, column: int, row: int, text: str, style: str | None) -> str:
    style_attr = f' s="{style}"' if style else ""
    body = escape(NOT_XML.sub("", text))
    return (
        f'<{prefix}c r="{get_column_letter(column)}{row}"{style_attr} t="inlineStr">'
        f'<{prefix}is><{prefix}t xml:space="preserve">{body}</{prefix}t></{prefix}is></{prefix}c>'
    )


def _patch_row(match: re.Match[str], number: int, changes: dict[int, NewCell]) -> str:
    prefix, attrs, body = match["p"], match["attrs"], match["body"] or ""
    cells: dict[int, str] = {}
    head = tail = ""
    column = 0
    found = list(CELL.finditer(body))
    for cell in found:
        reference = _attribute(cell["attrs"], "r")
        parsed = CELL_REF.match(reference) if reference else None
        column = column_index_from_string(parsed[1].upper()) if parsed else column + 1
        cells[column] = cell[0]
    if found:
        head, tail = body[: found[0].start()], body[found[-1].end() :]
    else:
        tail = body
    for target, new in changes.items():
        style = None
        if target in cells:
            old = CELL.match(cells[target])
            if old and FORMULA.search(old["body"] or ""):
                raise PatchError(f"cell {get_column_letter(target)}{number} holds a formula")
            style = _attribute(old["attrs"], "s") if old else None
        elif new.like_left and any(column < target for column in cells):
            left = CELL.match(cells[max(column for column in cells if column < target)])
            style = _attribute(left["attrs"], "s") if left else None
        cells[target] = _cell_xml(prefix, target, number, new.text, style)
    spans = _attribute(attrs, "spans")
    if spans and ":" in spans:
        low, high = (int(part) for part in spans.split(":", 1))
        widened = f"{min(low, *changes)}:{max(high, *changes)}"
        attrs = re.sub(r"""(\sspans\s*=\s*)(["']).*?\2""", rf'\g<1>"{widened}"', attrs)
    ordered = "".join(cells[key] for key in sorted(cells))
    return f"<{prefix}row{attrs}>{head}{ordered}{tail}</{prefix}row>"


def _widen_dimension(xml: str, last_column: int) -> str:
    def widen(match: re.Match[str]) -> str:
        first, _, last = match[3].partition(":")
        last_ref = CELL_REF.match(last or first)
        if not last_ref:
            return match[0]
        column = max(column_index_from_string(last_ref[1].upper()), last_column)
        return f"{match[1]}{match[2]}{first}:{get_column_letter(column)}{last_ref[2]}{match[2]}"

    return DIMENSION.sub(widen, xml, count=1)


def patch_sheet(xml: str, changes: dict[int, dict[int, NewCell]]) -> str:
    """Return the sheet XML with ``changes`` (row -> column -> cell) applied."""
    data = SHEET_DATA.search(xml)
    if data is None:
        raise PatchError("the sheet has no rows")
    remaining = dict(changes)
    last_row = 0

    def on_row(match: re.Match[str]) -> str:
        nonlocal last_row
        reference = _attribute(match["attrs"], "r")
        last_row = int(reference) if reference and reference.isdigit() else last_row + 1
        if last_row not in remaining:
            return match[0]
        return _patch_row(match, last_row, remaining.pop(last_row))

    body = ROW.sub(on_row, data["body"])
    if remaining:
        raise PatchError(f"row {min(remaining)} is not in the sheet")
    patched = xml[: data.start("body")] + body + xml[data.end("body") :]
    last_column = max(column for row in changes.values() for column in row)
    return _widen_dimension(patched, last_column)
