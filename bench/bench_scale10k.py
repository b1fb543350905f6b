"""Benchmark a 10,000-row batch end to end from CSV and XLSX; prints JSON, exits 1 on a miss.

Run from the project root (about 6 minutes on 2 cores):

    .venv/bin/python bench/bench_scale10k.py [--rows 10000] [--sizes 1000,2500]

Every case (a kind and a number of rows) runs in its own process, so its
peak resident memory is its own: a fresh SQLite database, a sandbox in
another process answering at once (latency 0), a source file of the order
lines of ``harness.write_orders_csv`` (the XLSX written with openpyxl). The
job is created from the file, previewed in this process, approved and run
to the end by ``job_execute``; then it must be completed with every row
shipped, and every tracking number must be in the file, read again through
its adapter. Every call of the adapter's ``write_back`` (one per flush) is
timed.

Targets:

- memory: the peak RSS of each ``--rows`` case's process <= 250 MB;
- linear write-back: for each kind, the write-back seconds per 1,000 rows
  shipped at ``--rows`` <= 2 x those at the smallest of ``--sizes``. Each
  flush rewrites the whole file, so with flushes at a fixed interval that
  figure would grow with the file (quadratic total).

SHIPOPS_WRITEBACK_FLUSH_SECONDS is 0.2 here, not the default 5, so that a
flush interval holds as many rows as in production: at latency 0 this
machine ships about 100 rows a second, some 25 times as fast as against UPS
(a few hundred ms per ship call), so 5 s there is 0.2 s here. With 5 s a
1,000-row batch of 10 s would flush twice and its figure would say nothing
about the schedule. A sandbox latency instead would give the same schedule
at 25 times the run time. With 0.2 s nearly every flush is spaced by the rule
(FLUSH_SPACING times the last flush's duration), as many flushes as it
allows, the worst case for the total. ``--flush-spacing 0`` restores the
fixed interval, to compare; ``--flush-seconds`` changes the base interval.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

MAX_RSS_MB = 250
MAX_GROWTH = 2.0  # write-back seconds per 1,000 rows, largest size over smallest
FLUSH_SECONDS = 0.2  # the default 5 s scaled to latency 0, see above
WRITERS: dict[str, tuple[str, Callable[[Path, int, str], None]]] = {
    "csv": ("csv", harness.write_orders_csv),
    "xlsx": ("excel", harness.write_orders_xlsx),
}


class FlushMeter:
    """Times every ``write_back`` of an adapter class: each is one flush, one file rewrite."""

    def __init__(self, adapter_class: Any) -> None:
        self.flushes: list[tuple[int, float]] = []  # (rows written, seconds)
        real_write_back = adapter_class.write_back
        meter = self

        def write_back(adapter: Any, updates: Sequence[Any]) -> None:
            started = time.perf_counter()
            try:
                real_write_back(adapter, updates)
            finally:
                meter.flushes.append((len(updates), time.perf_counter() - started))

        adapter_class.write_back = write_back

    def figures(self, rows: int) -> dict[str, Any]:
        seconds = sum(duration for _, duration in self.flushes)
        return {
            "flushes": len(self.flushes),
            "flush_seconds": round(seconds, 3),
            "longest_flush_seconds": round(max((d for _, d in self.flushes), default=0), 3),
            "rows_per_flush": round(rows / len(self.flushes), 1) if self.flushes else None,
            "writeback_seconds_per_1000_rows": round(seconds / rows * 1000, 4),
        }


class Phases:
    """Wall seconds, rows per second and peak RSS so far, per phase."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.figures: dict[str, dict[str, float]] = {}

    def run(self, name: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = call()
        seconds = time.perf_counter() - started
        self.figures[name] = {
            "seconds": round(seconds, 3),
            "rows_per_second": round(self.rows / seconds, 1),
            "peak_rss_mb_so_far": harness.peak_rss_mb(),
        }
        return result


def run_case(kind: str, rows: int, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Child process: one batch of ``rows`` rows from a ``kind`` file, created to completed."""
    sandbox_url = f"http://127.0.0.1:{harness.free_port()}"
    flush_seconds = str(args.flush_seconds)
    env = harness.configure(folder, sandbox_url, 0, SHIPOPS_WRITEBACK_FLUSH_SECONDS=flush_seconds)
    harness.setup_django()
    from datasources.adapters.registry import ADAPTERS
    from jobs.services import writeback
    from jobs.services.approval import job_approve
    from jobs.services.creation import job_create
    from jobs.services.execution import job_execute
    from jobs.services.preview import job_preview_run, job_preview_start

    if args.flush_spacing is not None:
        writeback.FLUSH_SPACING = args.flush_spacing
    source_kind, write = WRITERS[kind]
    name = f"orders.{kind}"
    write(folder / "sources" / name, rows, "K")
    source = harness.file_source(name, name, source_kind)
    operator = harness.make_operator()
    meter = FlushMeter(ADAPTERS[source_kind])
    phases = Phases(rows)
    baseline = harness.peak_rss_mb()
    with harness.Sandbox(env, folder / "sandbox.log"):
        job = phases.run("create", lambda: job_create(source=source, actor=operator))
        token = job_preview_start(job=job, actor=operator, in_background=False)
        phases.run("preview", lambda: job_preview_run(job_id=job.pk, token=token))
        token = phases.run(
            "approve", lambda: job_approve(job=job, acting_user=operator, in_background=False)
        )
        phases.run(
            "execute",
            lambda: job_execute(job_id=job.pk, token=token, slice_seconds=math.inf),
        )
    job.refresh_from_db()
    writeback_figures = meter.figures(rows)
    execute_seconds = phases.figures["execute"]["seconds"]
    return {
        "kind": kind,
        "rows": rows,
        "flush_spacing": writeback.FLUSH_SPACING,
        "status": job.status,
        "shipped": job.shipped_count,
        "tracking_numbers_missing_in_file": missing_in_file(job, source),
        "phases": phases.figures,
        "end_to_end_seconds": round(sum(p["seconds"] for p in phases.figures.values()), 3),
        "peak_rss_mb": harness.peak_rss_mb(),
        "peak_rss_mb_after_django_setup": baseline,
        **writeback_figures,
        "flush_share_of_execute": round(writeback_figures["flush_seconds"] / execute_seconds, 4),
    }


def missing_in_file(job: Any, source: Any) -> int:
    """Return how many shipped rows' tracking numbers the file does not hold (read afresh)."""
    from datasources.adapters import get_adapter
    from jobs.models import JobRow

    rows = JobRow.objects.filter(job=job, status="shipped")
    shipped = dict(rows.values_list("source_key", "tracking_number"))
    adapter = get_adapter(source)
    for row in adapter.iter_rows():
        if shipped.get(row.key) == adapter.existing_tracking(row.values):
            del shipped[row.key]
    return len(shipped)


def run_child(kind: str, rows: int, args: argparse.Namespace) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--child", kind, "--rows", str(rows)]
    argv += ["--flush-seconds", str(args.flush_seconds)]
    if args.flush_spacing is not None:
        argv += ["--flush-spacing", str(args.flush_spacing)]
    done = subprocess.run(argv, cwd=harness.ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"bench: the {kind} case of {rows} rows failed")
    return dict(json.loads(done.stdout))


def verdict(cases: list[dict[str, Any]], rows: int, smallest: int) -> dict[str, Any]:
    """Check every case completed and wrote back, the memory target, and linear write-back."""
    growth: dict[str, float | None] = {}
    for kind in WRITERS:
        cost = {c["rows"]: c["writeback_seconds_per_1000_rows"] for c in cases if c["kind"] == kind}
        growth[kind] = round(cost[rows] / cost[smallest], 2) if cost[smallest] else None
    complete = all(
        c["status"] == "completed"
        and c["shipped"] == c["rows"]
        and c["tracking_numbers_missing_in_file"] == 0
        for c in cases
    )
    peak = max(c["peak_rss_mb"] for c in cases if c["rows"] == rows)
    return {
        "all_completed_and_written_back": complete,
        "peak_rss_mb": peak,
        "memory_ok": peak <= MAX_RSS_MB,
        "writeback_growth": growth,
        "linear_ok": all(g is not None and g <= MAX_GROWTH for g in growth.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--sizes", default="1000,2500", help="smaller sizes, comma-separated")
    parser.add_argument(
        "--flush-seconds", type=float, default=FLUSH_SECONDS, help="the base flush interval"
    )
    parser.add_argument(
        "--flush-spacing", type=int, help="replace FLUSH_SPACING (0: a fixed interval)"
    )
    parser.add_argument("--child", choices=list(WRITERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory(prefix="shipops-bench-") as folder:
            figures = run_case(args.child, args.rows, args, Path(folder))
        print(json.dumps(figures))
        return 0
    sizes = sorted({*(int(size) for size in args.sizes.split(",")), args.rows})
    report: dict[str, Any] = {
        "environment": harness.environment(),
        "writeback_flush_seconds": args.flush_seconds,
        "targets": {
            "peak_rss_mb": f"<= {MAX_RSS_MB} for each {args.rows}-row case",
            "writeback_growth": (
                f"write-back seconds per 1,000 rows at {args.rows} rows <= {MAX_GROWTH} x "
                f"those at {sizes[0]} rows, per kind"
            ),
        },
        "cases": [run_child(kind, rows, args) for kind in WRITERS for rows in sizes],
    }
    report.update(verdict(report["cases"], args.rows, sizes[0]))
    report["load_at_end"] = harness.load_average()
    report["ok"] = (
        report["all_completed_and_written_back"] and report["memory_ok"] and report["linear_ok"]
    )
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
