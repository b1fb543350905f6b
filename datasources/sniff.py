"""Recognise a file by its content, never by its name: text encodings and Excel containers."""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from datasources.errors import SourceError

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
UTF8_BOM = codecs.BOM_UTF8
ENCRYPTED_STREAM = "EncryptionInfo".encode("utf-16-le")
WORKBOOK_CONTENT_TYPES = (
    b"spreadsheetml.sheet.main+xml",
    b"sheet.macroEnabled.main+xml",
)
CHUNK = 1 << 20
# A character names and addresses hold, as UTF-8 writes it: U+00A0 to U+017F (accented
# Latin letters, in two bytes), U+2010 to U+203F (dashes, curly quotes, bullets) and
# the euro sign. Read as Windows-1252 these are "Ã©", "â€™": only garbled text holds
# them. Other pairs can be real Windows-1252 ("É”" is the two bytes of U+0254).
UTF8_TEXT_CHARACTER = re.compile(
    rb"\xc2[\xa0-\xbf]|[\xc3-\xc5][\x80-\xbf]|\xe2\x80[\x90-\xbf]|\xe2\x82\xac"
)
# Bytes that never occur in real text files (tab, newline, form feed and return do).
CONTROL_BYTES = frozenset(range(32)) - {9, 10, 12, 13}


@dataclass(frozen=True)
class TextEncoding:
    """How a text file is encoded: the codec, whether it starts with a UTF-8 BOM."""

    codec: str
    bom: bool = False

    @property
    def python_codec(self) -> str:
        """Return the codec name that reads and writes the file exactly, BOM included."""
        return "utf-8-sig" if self.bom else self.codec

    @property
    def is_fallback(self) -> bool:
        """Return True when the file was not UTF-8 and was read as Windows-1252."""
        return self.codec == "cp1252"


def corrupt_workbook_error(display: str) -> SourceError:
    """Return the error for a workbook that cannot be opened or parsed."""
    return SourceError(
        "workbook_corrupt",
        f'"{display}" is damaged and cannot be read; open it in Excel, repair it and save it '
        "again.",
        source=display,
    )


def xls_error(display: str) -> SourceError:
    """Return the error for an old-format .xls workbook."""
    return SourceError(
        "xls_unsupported",
        f'"{display}" is an old-format Excel workbook (.xls); save it as .xlsx.',
        source=display,
    )


def read_head(path: Path, size: int = 8) -> bytes:
    """Return the first ``size`` bytes of ``path``."""
    with path.open("rb") as handle:
        return handle.read(size)


def _refuse_containers(head: bytes, display: str) -> None:
    if head.startswith(ZIP_MAGIC):
        raise SourceError(
            "wrong_kind",
            f'"{display}" is an Excel workbook or another zip file, not a CSV text file; '
            "set the data source's kind to Excel workbook or export the sheet as CSV.",
            source=display,
        )
    if head.startswith(OLE2_MAGIC):
        raise SourceError(
            "wrong_kind",
            f'"{display}" is an old-format Office file (such as .xls), not a CSV text file.',
            source=display,
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SourceError(
            "encoding_unsupported",
            f'"{display}" is UTF-16 text (Excel\'s "Unicode Text"); '
            'save it as "CSV UTF-8 (Comma delimited)".',
            source=display,
        )


class _EncodingScan:
    """One pass over a file's bytes: is it UTF-8, Windows-1252, or UTF-8 mixed with another?"""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.utf8_ok = self.cp1252_ok = True
        self.utf8_line = 0  # the first line holding a character written as UTF-8 writes it
        self.not_utf8_line = 0  # the first line that is not UTF-8
        self.lines_before = 0

    def feed(self, chunk: bytes) -> None:
        if self.utf8_ok:
            try:
                self.decoder.decode(chunk)
            except UnicodeDecodeError as error:
                self.utf8_ok = False
                self.not_utf8_line = self.lines_before + chunk.count(b"\n", 0, error.start) + 1
        if self.cp1252_ok:
            try:
                chunk.decode("cp1252")
            except UnicodeDecodeError:
                self.cp1252_ok = False
        if not self.utf8_line and (found := UTF8_TEXT_CHARACTER.search(chunk)):
            self.utf8_line = self.lines_before + chunk.count(b"\n", 0, found.start()) + 1
        self.lines_before += chunk.count(b"\n")

    def finish(self) -> None:
        if self.utf8_ok:
            try:
                self.decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.utf8_ok = False
                self.not_utf8_line = self.lines_before + 1


def detect_text_encoding(path: Path, display: str) -> TextEncoding:
    """Return the file's encoding (UTF-8, else Windows-1252) or refuse a file that is not text.

    A file that holds UTF-8 characters and bytes that are not UTF-8 (lines
    pasted from another program) is refused: read either way, some of its
    names would come out garbled ("JosÃ©"), and ship so.
    """
    head = read_head(path, 4)
    _refuse_containers(head, display)
    scan = _EncodingScan()
    first = True
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sample = chunk[:65536] if first else b""
            if b"\x00" in chunk or (
                sample and sum(b in CONTROL_BYTES for b in sample) > len(sample) // 100
            ):
                raise SourceError(
                    "not_text",
                    f'"{display}" contains binary data; it is not a CSV text file.',
                    source=display,
                )
            first = False
            scan.feed(chunk)
    scan.finish()
    if scan.utf8_ok:
        return TextEncoding("utf-8", bom=head.startswith(UTF8_BOM))
    if scan.utf8_line or head.startswith(UTF8_BOM):
        line = scan.not_utf8_line
        utf8 = f"UTF-8 text (line {scan.utf8_line})" if scan.utf8_line else "a UTF-8 mark"
        raise SourceError(
            "encoding_mixed",
            f'"{display}" mixes encodings: it holds {utf8}, yet line {line} is not UTF-8 '
            "(Windows-1252, perhaps pasted from another program). Read either way, some names "
            f'would come out garbled: fix line {line} and save the file as "CSV UTF-8 (Comma '
            'delimited)".',
            source=display,
            details={"line": line, "utf8_line": scan.utf8_line},
        )
    if scan.cp1252_ok:
        return TextEncoding("cp1252")
    raise SourceError(
        "encoding_unreadable",
        f'"{display}" is neither UTF-8 nor Windows-1252 text; '
        'save it as "CSV UTF-8 (Comma delimited)".',
        source=display,
    )


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    return sum(b in CONTROL_BYTES for b in head) <= len(head) // 100


def check_workbook_container(path: Path, display: str) -> None:
    """Refuse anything that is not an .xlsx/.xlsm workbook, with the reason in the message."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        raise SourceError("empty", f'"{display}" is empty.', source=display)
    if head.startswith(OLE2_MAGIC):
        if ENCRYPTED_STREAM in path.read_bytes():
            raise SourceError(
                "workbook_encrypted",
                f'"{display}" is protected with a password; '
                "save a copy without the password and use that.",
                source=display,
            )
        raise xls_error(display)
    if not head.startswith(ZIP_MAGIC):
        what = "a text file (perhaps CSV)" if _looks_like_text(head) else "not a workbook"
        raise SourceError(
            "not_excel",
            f'"{display}" has an Excel name but is {what}; '
            "open it in Excel and save it as .xlsx, or use a CSV data source.",
            source=display,
        )
    try:
        with zipfile.ZipFile(path) as archive:
            content_types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        raise corrupt_workbook_error(display) from None
    except KeyError:
        content_types = b""
    if not any(kind in content_types for kind in WORKBOOK_CONTENT_TYPES):
        raise SourceError(
            "not_excel",
            f'"{display}" is a zip file (perhaps another Office document) but not an Excel '
            "workbook.",
            source=display,
        )


def check_upload_content(path: Path, *, filename: str, suffix: str) -> None:
    """Refuse an upload whose content does not match its name: a workbook or readable text."""
    if suffix in {".xlsx", ".xlsm"}:
        check_workbook_container(path, filename)
        return
    if path.stat().st_size == 0:
        raise SourceError("empty", f'"{filename}" is empty.', source=filename)
    detect_text_encoding(path, filename)
