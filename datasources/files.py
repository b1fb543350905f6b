"""Where source files live: paths confined to SHIPOPS_SOURCE_ROOT, and checked uploads."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename

from datasources.errors import SourceError
from datasources.sniff import check_upload_content
from datasources.validation import shown

UPLOAD_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}


def source_root() -> Path:
    """Return the resolved folder that holds every source file."""
    return Path(settings.SHIPOPS_SOURCE_ROOT).resolve()


def resolve_source_path(relative: str) -> Path:
    """Return the absolute path of ``relative`` under the source root, refusing any escape."""
    text = str(relative).strip()
    if not text or "\x00" in text:
        raise SourceError("path_invalid", "The data source has no usable file path.", source=text)
    if PurePosixPath(text).is_absolute() or Path(text).is_absolute() or ".." in Path(text).parts:
        raise SourceError(
            "path_outside_root",
            f'The file path "{text}" must be relative to the source folder and stay inside it.',
            source=text,
        )
    root = source_root()
    try:
        # resolve() follows symbolic links, so a link that points outside the root is refused too.
        candidate = (root / text).resolve()
    except OSError as error:
        raise _unusable_path(text, error) from error
    if not candidate.is_relative_to(root) or candidate == root:
        raise SourceError(
            "path_outside_root",
            f'The file "{text}" is outside the source folder; ShipOps only reads files inside it.',
            source=text,
        )
    return candidate


def existing_source_file(relative: str) -> Path:
    """Return the resolved path of an existing regular file under the source root."""
    path = resolve_source_path(relative)
    try:
        exists, is_file = path.exists(), path.is_file()
    except OSError as error:
        raise _unusable_path(relative, error) from error
    if not exists:
        raise SourceError(
            "file_not_found",
            f'The file "{relative}" was not found in the source folder.',
            source=relative,
        )
    if not is_file:
        raise SourceError("not_a_file", f'"{relative}" is a folder, not a file.', source=relative)
    return path


def _unusable_path(relative: str, error: OSError) -> SourceError:
    """Return the SourceError for a path the file system refuses to look up (such as too long)."""
    if error.errno == errno.ENAMETOOLONG:
        reason = (
            "a folder or file name in it is longer than the file system allows (usually 255 bytes)"
        )
    else:
        reason = f"the file system refused it ({error.strerror or type(error).__name__})"
    return SourceError(
        "path_invalid",
        f'The file path "{shown(relative)}" cannot be used: {reason}.',
        source=relative,
    )


def save_upload(uploaded_file: UploadedFile, *, name: str) -> str:
    """Store an uploaded CSV or Excel file under the source root; return its relative path."""
    filename = get_valid_filename(Path(name).name) if Path(name).name else ""
    suffix = Path(filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise SourceError(
            "upload_type",
            f'"{name}" is not a CSV (.csv, .txt, .tsv) or Excel (.xlsx, .xlsm) file.',
            source=name,
        )
    root = source_root()
    root.mkdir(parents=True, exist_ok=True)
    limit = settings.SHIPOPS_UPLOAD_MAX_BYTES
    handle, temp_name = tempfile.mkstemp(dir=root, prefix=".upload-", suffix=suffix)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            written = 0
            for chunk in uploaded_file.chunks():
                written += len(chunk)
                if written > limit:
                    raise SourceError(
                        "upload_too_large",
                        f'"{filename}" is larger than the {limit:,} bytes an upload may have.',
                        source=filename,
                    )
                out.write(chunk)
        check_upload_content(temp, filename=filename, suffix=suffix)
        return _link_unique(temp, root, filename)
    finally:
        temp.unlink(missing_ok=True)


def discard_upload(relative: str) -> None:
    """Remove a file ``save_upload`` stored, when the data source it was for is refused."""
    resolve_source_path(relative).unlink(missing_ok=True)


def _link_unique(temp: Path, root: Path, filename: str) -> str:
    """Give ``temp`` a name no other file has (orders.csv, orders-2.csv, ...) without a race."""
    stem, suffix = Path(filename).stem, Path(filename).suffix
    for attempt in range(1, 1000):
        candidate = filename if attempt == 1 else f"{stem}-{attempt}{suffix}"
        try:
            # link() fails when the name exists, so two uploads never overwrite each other.
            os.link(temp, root / candidate)
        except FileExistsError:
            continue
        return candidate
    raise SourceError(
        "upload_name_taken", f'Too many files are already named like "{filename}".', source=filename
    )
