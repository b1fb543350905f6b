"""Write-backs replace files atomically, one at a time, and a crash leaves the original intact."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from django.conf import LazySettings

from datasources.adapters import WriteBack, get_adapter
from datasources.atomic import atomic_write, file_signature, lock_path_for
from datasources.errors import SourceError
from datasources.models import DataSource
from tests.fixtures.sources import order_rows

SHIPPED_AT = dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.UTC)
TRACKING = "1Z999AA10123456784"
ROOT = Path(__file__).resolve().parents[2]

CRASH_BETWEEN_WRITE_AND_RENAME = """
import datetime as dt, os, sys
import django
django.setup()
from datasources.adapters import WriteBack, get_adapter
from datasources.models import DataSource

def die(*args, **kwargs):
    os._exit(70)  # the power goes out after the temporary file is written, before the rename

os.replace = die
source = DataSource(kind=sys.argv[1], file_path=sys.argv[2])
shipped_at = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
get_adapter(source).write_back([WriteBack("1", "1Z999AA10123456784", shipped_at)])
"""

HOLD_LOCK = """
import sys
from pathlib import Path
import django
django.setup()
from datasources.atomic import file_lock

with file_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()
"""


def _python(code: str, *args: str, root: Path, **options: Any) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shipops.settings",
        "SHIPOPS_SOURCE_ROOT": str(root),
        "SHIPOPS_DATA_DIR": str(root.parent / "data"),
    }
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, text=True, **options
    )


@pytest.mark.parametrize(
    ("kind", "name"), [("csv", "orders.csv"), ("excel", "orders.xlsx")], ids=["csv", "xlsx"]
)
def test_a_crash_before_the_rename_leaves_the_original_intact(
    csv_source: Callable[..., DataSource],
    excel_source: Callable[..., DataSource],
    source_root: Path,
    kind: str,
    name: str,
) -> None:
    source = (csv_source if kind == "csv" else excel_source)(order_rows(3), name=name)
    path = source_root / name
    original = path.read_bytes()

    process = _python(CRASH_BETWEEN_WRITE_AND_RENAME, kind, name, root=source_root)

    assert process.wait(timeout=60) == 70
    assert path.read_bytes() == original
    [leftover] = source_root.glob(f".{name}.*.tmp")
    assert leftover.stat().st_size > 0, "the temporary copy was complete when the process died"

    get_adapter(source).write_back([WriteBack("2", TRACKING, SHIPPED_AT)])

    assert not list(source_root.glob(f".{name}.*.tmp")), "the next write-back clears leftovers"
    assert [row.key for row in get_adapter(source).iter_rows()] == ["1", "2", "3"]


def test_a_lock_held_by_another_process_makes_write_back_wait_then_fail(
    csv_source: Callable[..., DataSource], source_root: Path, settings: LazySettings
) -> None:
    settings.SHIPOPS_SOURCE_LOCK_SECONDS = 0.3
    source = csv_source(order_rows(2))
    path = source_root / "orders.csv"
    original = path.read_bytes()
    holder = _python(
        HOLD_LOCK, str(path), root=source_root, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"

        with pytest.raises(SourceError) as raised:
            get_adapter(source).write_back([WriteBack("1", TRACKING, SHIPPED_AT)])
    finally:
        holder.communicate(timeout=30)

    assert raised.value.code == "source_busy"
    assert path.read_bytes() == original
    assert lock_path_for(path).exists()
    get_adapter(source).write_back([WriteBack("1", TRACKING, SHIPPED_AT)])
    assert path.read_bytes() != original


def test_concurrent_write_backs_of_one_file_never_lose_an_update(
    csv_source: Callable[..., DataSource],
) -> None:
    source = csv_source(order_rows(8))
    errors: list[BaseException] = []

    def flush(key: str) -> None:
        try:
            get_adapter(source).write_back([WriteBack(key, f"1Z999AA1012345678{key}", SHIPPED_AT)])
        except BaseException as error:  # the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=flush, args=(str(n),)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    tracking = [row.values["tracking_number"] for row in get_adapter(source).iter_rows()]
    assert tracking == [f"1Z999AA1012345678{n}" for n in range(1, 9)]


def test_a_file_saved_by_someone_else_meanwhile_is_not_overwritten(source_root: Path) -> None:
    path = source_root / "orders.csv"
    path.write_bytes(b"original")
    expected = file_signature(path)

    def write(out: IO[bytes]) -> None:
        out.write(b"ours")
        path.write_bytes(b"saved in Excel meanwhile")

    with pytest.raises(SourceError) as raised:
        atomic_write(path, write, expected=expected, display="orders.csv")

    assert raised.value.code == "source_changed"
    assert path.read_bytes() == b"saved in Excel meanwhile"
    assert sorted(p.name for p in source_root.iterdir()) == ["orders.csv"]


def test_the_file_keeps_its_permissions(
    csv_source: Callable[..., DataSource], source_root: Path
) -> None:
    source = csv_source(order_rows(1))
    path = source_root / "orders.csv"
    path.chmod(0o640)

    get_adapter(source).write_back([WriteBack("1", TRACKING, SHIPPED_AT)])

    assert stat.S_IMODE(path.stat().st_mode) == 0o640
