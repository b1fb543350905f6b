"""Benchmark the preview (rate + address validation of every row); prints JSON, exits 1 on a miss.

Run from the project root (about a minute):

    .venv/bin/python bench/bench_preview.py [--rows 500] [--latency-ms 50]

A job of ``--rows`` rows from a CSV file is created on a fresh SQLite
database, then ``job_preview_run`` rates and validates it in this process
with the default SHIPOPS_PREVIEW_CONCURRENCY, against a sandbox (another
process) answering every call ``--latency-ms`` after it received it. Target:
wall time <= N x L / 6. Warnings of urllib3's "Connection pool is full" are
counted: each one is a connection opened and thrown away.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

SPEED_UP = 6


class PoolFull(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "Connection pool is full" in record.getMessage():
            self.count += 1


def preview_once(folder: Path, operator: Any, rows: int, number: int) -> float:
    from jobs.services.creation import job_create
    from jobs.services.preview import job_preview_run, job_preview_start

    name = f"preview{number}.csv"
    harness.write_orders_csv(folder / "sources" / name, rows, prefix=f"P{number}-")
    job = job_create(source=harness.csv_source(name, name), actor=operator)
    token = job_preview_start(job=job, actor=operator, in_background=False)
    started = time.perf_counter()
    job_preview_run(job_id=job.pk, token=token)
    wall = time.perf_counter() - started
    job.refresh_from_db()
    if job.status != "previewed" or job.previewed_count != rows:
        raise SystemExit(f"bench: preview of job {job.pk} ended {job.status}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    report: dict[str, Any] = {"environment": harness.environment()}
    with tempfile.TemporaryDirectory(prefix="shipops-bench-") as name:
        folder = Path(name)
        env = harness.configure(folder, f"http://127.0.0.1:{harness.free_port()}", 0)
        harness.setup_django()
        from django.conf import settings

        pool_full = PoolFull()
        logging.getLogger("urllib3").addHandler(pool_full)
        operator = harness.make_operator()
        with harness.Sandbox(env, folder / "sandbox.log") as sandbox:
            preview_once(folder, operator, 10, 0)  # warm up: token, imports
            sandbox.reset()
            requests.post(
                f"{sandbox.url}/__sandbox/faults",
                json={"kind": "latency", "ms": args.latency_ms},
                timeout=10,
            ).raise_for_status()
            walls = [
                preview_once(folder, operator, args.rows, n) for n in range(1, args.repeat + 1)
            ]
        target = args.rows * args.latency_ms / 1000 / SPEED_UP
        wall = statistics.median(walls)
        report.update(
            {
                "rows": args.rows,
                "latency_ms": args.latency_ms,
                "concurrency": settings.SHIPOPS_PREVIEW_CONCURRENCY,
                "wall_seconds": [round(w, 3) for w in walls],
                "median_wall_seconds": round(wall, 3),
                "target_seconds": round(target, 3),
                "rows_per_second": round(args.rows / wall, 1),
                "speed_up": round(args.rows * args.latency_ms / 1000 / wall, 2),
                "pool_full_warnings": pool_full.count,
            }
        )
    report["ok"] = report["median_wall_seconds"] <= target
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
