"""The parts of an .xlsx package: where a sheet's XML lives, and copying the package."""

from __future__ import annotations

import posixpath
import zipfile
from typing import IO
from xml.etree import ElementTree

# openpyxl reads these same small parts with the same parser; expat limits entity expansion.
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
OFFICE_DOCUMENT = "/officeDocument"


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    folder, name = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", f"{name}.rels")
    root = ElementTree.fromstring(archive.read(rels_part))  # noqa: S314
    return {
        rel.get("Id", ""): (rel.get("Type", ""), rel.get("Target", ""))
        for rel in root.iter(f"{REL_NS}Relationship")
    }


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def workbook_part(archive: zipfile.ZipFile) -> str:
    """Return the name of the workbook part (usually xl/workbook.xml)."""
    for kind, target in _relationships(archive, "").values():
        if kind.endswith(OFFICE_DOCUMENT):
            return _resolve("", target)
    return "xl/workbook.xml"


def sheet_part(archive: zipfile.ZipFile, title: str) -> str:
    """Return the name of the part that holds the worksheet called ``title``."""
    book = workbook_part(archive)
    root = ElementTree.fromstring(archive.read(book))  # noqa: S314
    relationships = _relationships(archive, book)
    for sheet in root.iter(f"{MAIN_NS}sheet"):
        if sheet.get("name") == title:
            return _resolve(book, relationships[sheet.get(DOC_REL, "")][1])
    raise KeyError(title)


def copy_package(archive: zipfile.ZipFile, out: IO[bytes], replacements: dict[str, bytes]) -> None:
    """Write every part of ``archive`` to ``out`` in its order, replacing the parts named."""
    with zipfile.ZipFile(out, "w") as copy:
        for info in archive.infolist():
            data = replacements.get(info.filename)
            copy.writestr(info, archive.read(info) if data is None else data)
