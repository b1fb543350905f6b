"""Source paths stay under the root; uploads are limited in size and checked by content."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile

from datasources.errors import SourceError
from datasources.files import existing_source_file, resolve_source_path, save_upload
from tests.fixtures.sources import csv_bytes, order_rows, xlsx_bytes


@pytest.mark.parametrize(
    ("relative", "code"),
    [
        ("../secrets.csv", "path_outside_root"),
        ("orders/../../secrets.csv", "path_outside_root"),
        ("/etc/passwd", "path_outside_root"),
        ("", "path_invalid"),
        ("orders\x00.csv", "path_invalid"),
        (".", "path_outside_root"),
    ],
)
def test_paths_outside_the_root_are_refused(relative: str, code: str) -> None:
    with pytest.raises(SourceError) as raised:
        resolve_source_path(relative)

    assert raised.value.code == code


def test_a_link_that_leaves_the_root_is_refused(source_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_bytes(b"recipient\r\n")
    (source_root / "inside.csv").symlink_to(outside)
    (source_root / "shared").symlink_to(tmp_path)

    for relative in ("inside.csv", "shared/outside.csv"):
        with pytest.raises(SourceError) as raised:
            resolve_source_path(relative)
        assert raised.value.code == "path_outside_root"
    assert outside.read_bytes() == b"recipient\r\n"


def test_paths_inside_the_root_resolve(source_root: Path) -> None:
    (source_root / "2024").mkdir()
    (source_root / "2024" / "may.csv").write_bytes(b"x")
    (source_root / "latest.csv").symlink_to(source_root / "2024" / "may.csv")

    assert existing_source_file("2024/may.csv") == source_root.resolve() / "2024" / "may.csv"
    assert existing_source_file("latest.csv") == source_root.resolve() / "2024" / "may.csv"


def test_a_name_longer_than_the_file_system_allows_is_refused(source_root: Path) -> None:
    with pytest.raises(SourceError, match="longer than the file system allows") as raised:
        existing_source_file("o" * 300 + ".csv")

    assert raised.value.code == "path_invalid"


def test_missing_files_and_folders_are_named(source_root: Path) -> None:
    (source_root / "folder").mkdir()

    with pytest.raises(SourceError, match=r'"nope\.csv" was not found'):
        existing_source_file("nope.csv")
    with pytest.raises(SourceError, match='"folder" is a folder'):
        existing_source_file("folder")


def test_an_upload_is_stored_under_a_free_name(source_root: Path) -> None:
    data = csv_bytes(order_rows(2))

    first = save_upload(SimpleUploadedFile("x", data), name="../../May orders.csv")
    second = save_upload(SimpleUploadedFile("x", data), name="May orders.csv")
    workbook = save_upload(SimpleUploadedFile("x", xlsx_bytes({"O": order_rows(1)})), name="o.xlsx")

    assert (first, second, workbook) == ("May_orders.csv", "May_orders-2.csv", "o.xlsx")
    assert (source_root / first).read_bytes() == data
    assert {p.name for p in source_root.iterdir()} == {first, second, workbook}


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("orders.exe", b"MZ", "upload_type"),
        ("orders.csv", b"", "empty"),
        ("orders.csv", bytes(range(256)) * 4, "not_text"),
        ("orders.csv", xlsx_bytes({"Orders": order_rows(1)}), "wrong_kind"),
        ("orders.xlsx", csv_bytes(order_rows(1)), "not_excel"),
        ("orders.xlsx", b"PK\x03\x04 broken", "workbook_corrupt"),
        ("orders.xls", b"\xd0\xcf\x11\xe0", "upload_type"),
    ],
)
def test_uploads_are_checked_by_content(
    source_root: Path, name: str, data: bytes, code: str
) -> None:
    with pytest.raises(SourceError) as raised:
        save_upload(SimpleUploadedFile(name, data), name=name)

    assert raised.value.code == code
    assert list(source_root.iterdir()) == []


def test_an_upload_over_the_limit_is_refused(source_root: Path, settings: LazySettings) -> None:
    settings.SHIPOPS_UPLOAD_MAX_BYTES = 1024

    with pytest.raises(SourceError) as raised:
        save_upload(SimpleUploadedFile("big.csv", csv_bytes(order_rows(40))), name="big.csv")

    assert raised.value.code == "upload_too_large"
    assert "1,024 bytes" in raised.value.message
    assert list(source_root.iterdir()) == []
