"""Which data sources read the same rows: one file (or one sheet of it), or one table.

Two data sources may name one place differently ("orders.csv" and
"./Orders.csv" on a case-insensitive disk, a link to it, a workbook with and
without its sheet named); a job of either ships the same orders, so the
one-job-per-order rule (``jobs.services.overlap``) looks at all of them.
Only the source folder's own names are compared (links and spellings that
resolve to one file); two folders mounted twice are not detected.
"""

from __future__ import annotations

from datasources.errors import SourceError
from datasources.files import resolve_source_path
from datasources.models import DataSource, SourceKind

FILE_KINDS = (SourceKind.CSV, SourceKind.EXCEL)


def same_place_source_ids(source: DataSource) -> list[int]:
    """Return the ids of the data sources that read ``source``'s rows, its own included.

    A workbook source without a sheet name reads the first visible sheet,
    which may be the sheet another source names: the two count as one place.
    """
    if source.kind == SourceKind.DATABASE:
        table = source.table_name.strip().lower()
        alias = source.db_alias or "default"
        candidates = DataSource.objects.filter(kind=SourceKind.DATABASE)
        return sorted(
            other.pk
            for other in candidates.only("pk", "db_alias", "table_name")
            if (other.db_alias or "default") == alias and other.table_name.strip().lower() == table
        )
    place = _file_place(source.file_path)
    sheet = source.sheet_name.strip().lower()
    candidates = DataSource.objects.filter(kind__in=FILE_KINDS).only(
        "pk", "file_path", "sheet_name"
    )
    return sorted(
        other.pk
        for other in candidates
        if _file_place(other.file_path) == place
        and (not sheet or not other.sheet_name.strip() or other.sheet_name.strip().lower() == sheet)
    )


def _file_place(relative: str) -> tuple[int, int] | str:
    """Return the file a relative source path names: its device and inode when it exists
    (a link, another spelling or a hard link to it is the same file), else its resolved path."""
    try:
        path = resolve_source_path(relative)
    except SourceError:
        return relative.strip()
    try:
        found = path.stat()
    except OSError:
        return str(path)
    return (found.st_dev, found.st_ino)
