"""Benchmark source write-back and reading; prints JSON (docs/performance.md keeps the figures).

Run from the project root:  .venv/bin/python bench/bench_sources.py
It is not a test: it times real files in a temporary folder and measures the
peak memory of reading 10,000 rows in a fresh process per kind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100, 1_000, 10_000)
REPEAT = 3
KINDS = {"csv": "orders.csv", "xlsx": "orders.xlsx"}


def _setup(folder: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipops.settings")
    os.environ["SHIPOPS_SOURCE_ROOT"] = str(folder / "sources")
    os.environ["SHIPOPS_DATA_DIR"] = str(folder / "data")
    (folder / "sources").mkdir(exist_ok=True)
    import django

    django.setup()


def _source(kind: str) -> Any:
    from datasources.models import DataSource, SourceKind

    source_kind = SourceKind.CSV if kind == "csv" else SourceKind.EXCEL
    return DataSource(kind=source_kind, file_path=KINDS[kind], key_column="order_id")


def _write_file(folder: Path, kind: str, rows: int) -> None:
    from tests.fixtures.sources import csv_bytes, order_rows, xlsx_bytes

    data = order_rows(rows)
    content = csv_bytes(data) if kind == "csv" else xlsx_bytes({"Orders": data})
    (folder / "sources" / KINDS[kind]).write_bytes(content)


def _time_write_back(folder: Path, kind: str, rows: int, updates: int, *, warm: bool) -> float:
    """Return the median seconds of one write-back of ``updates`` rows into a fresh file.

    ``warm``: the file was read first (as a batch's preview does), so its index is cached.
    """
    from datasources.adapters import WriteBack, get_adapter

    shipped_at = dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.UTC)
    batch = [
        WriteBack(f"SO-{n:05d}", f"1Z999AA1{n:010d}", shipped_at) for n in range(1, updates + 1)
    ]
    times = []
    for _ in range(REPEAT):
        _write_file(folder, kind, rows)
        adapter = get_adapter(_source(kind))
        if warm:
            sum(1 for _ in adapter.iter_rows())
        start = time.perf_counter()
        adapter.write_back(batch)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 4)


def _peak_rss_mb() -> float:
    """Return the process's peak resident memory in MB (VmHWM on Linux, which exec resets)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _measure_read(kind: str) -> None:
    """Child process: map and validate every row, then print time and peak memory."""
    from datasources.adapters import get_adapter
    from datasources.mapping import read_shipments

    baseline = _peak_rss_mb()
    start = time.perf_counter()
    valid = sum(1 for row in read_shipments(_source(kind)) if row.is_valid)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    for number in range(1, 10_001):
        get_adapter(_source(kind)).current_checksums([f"SO-{number:05d}"])
    lookups = time.perf_counter() - start
    result = {
        "valid_rows": valid,
        "read_and_map_seconds": round(seconds, 3),
        "checksum_lookups_10000_seconds": round(lookups, 3),
        "peak_rss_before_read_mb": baseline,
        "peak_rss_mb": _peak_rss_mb(),
    }
    print(json.dumps(result))


def _read_in_child(folder: Path, kind: str) -> dict[str, Any]:
    _write_file(folder, kind, 10_000)
    result = subprocess.run(  # noqa: S603 - this script, our interpreter
        [sys.executable, __file__, "--read", kind, str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(result.stdout))


def main() -> None:
    """Print every figure as one JSON document."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _setup(folder)
        figures: dict[str, Any] = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "repeat": REPEAT,
            "write_back_all_rows_seconds": {},
            "write_back_all_rows_after_read_seconds": {},
            "flush_100_rows_after_read_seconds": {},
            "read_10000_rows": {},
        }
        for kind in KINDS:
            figures["write_back_all_rows_seconds"][kind] = {
                str(rows): _time_write_back(folder, kind, rows, rows, warm=False) for rows in SIZES
            }
            figures["write_back_all_rows_after_read_seconds"][kind] = {
                str(rows): _time_write_back(folder, kind, rows, rows, warm=True) for rows in SIZES
            }
            figures["flush_100_rows_after_read_seconds"][kind] = {
                str(rows): _time_write_back(folder, kind, rows, 100, warm=True) for rows in SIZES
            }
            figures["read_10000_rows"][kind] = _read_in_child(folder, kind)
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--read"]:
        _setup(Path(sys.argv[3]))
        _measure_read(sys.argv[2])
    else:
        main()
