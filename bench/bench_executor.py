"""Benchmark the executor's overhead over UPS's own latency; prints JSON, exits 1 on a miss.

Run from the project root (about 4 minutes for both databases):

    .venv/bin/python bench/bench_executor.py [--database sqlite|postgres|both]

Each database runs in its own process (Django's settings are per process):
a fresh SQLite file, or the PostgreSQL database ``shipops_bench`` dropped and
created again. The sandbox runs in another process. A job of ``--rows`` rows
from a CSV file is created and approved, then ``job_execute`` runs it in this
process to the end, timed. With the sandbox answering every call
``--latency-ms`` after it received it, the target is wall / (N x L) <= 1.05;
with no latency the figure is rows per second, and SQL statements per row.
``bare_client_ratio`` is the same ratio for the UPS client alone, calling the
sandbox in a loop: the part of the overhead that is HTTP, not ShipOps; and
``ratio_to_bare_client`` is the executor's wall time over N bare calls: what
ShipOps adds to the client's own time. ``committed_write_floor_ratio`` is the
bare loop with one single-row UPDATE committed before each call, in raw SQL
and in autocommit (one round trip): the least that any executor recording a
row in flight before sending it (DESIGN.md's phase A) can reach on this
machine and database.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    ROOT,
    Sandbox,
    configure,
    csv_source,
    environment,
    free_port,
    make_operator,
    recreate_postgres,
    setup_django,
    write_orders_csv,
)

TARGET_RATIO = 1.05
FLOOR_CALLS = 200  # bare client calls timed for the floor


class ExecutorBench:
    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        database_url = recreate_postgres() if args.database == "postgres" else ""
        sandbox_url = f"http://127.0.0.1:{free_port()}"
        self.env = configure(folder, sandbox_url, 0, database_url=database_url)
        self.jobs = 0

    def run(self) -> dict[str, Any]:
        setup_django()
        self.operator = make_operator()
        with Sandbox(self.env, self.folder / "sandbox.log") as sandbox:
            self.sandbox = sandbox
            self._execute(10, 0)  # warm up: token, connections, imports
            latency = self.args.latency_ms
            timed = [self._execute(self.args.rows, latency) for _ in range(self.args.repeat)]
            fast = [self._execute(self.args.rows, 0) for _ in range(self.args.repeat)]
            queries = self._count_queries(50)
            bare_call = self._bare_call_seconds(FLOOR_CALLS, latency)
            floor_call = self._bare_call_seconds(FLOOR_CALLS, latency, commit_first=True)
        wall = statistics.median(timed)
        ideal = self.args.rows * latency / 1000
        fast_wall = statistics.median(fast)
        figures = {
            "database": self.args.database,
            "rows": self.args.rows,
            "latency_ms": latency,
            "wall_seconds": [round(w, 3) for w in timed],
            "median_wall_seconds": round(wall, 3),
            "ideal_seconds": ideal,
            "ratio": round(wall / ideal, 4) if ideal else None,
            "overhead_ms_per_row": round((wall - ideal) / self.args.rows * 1000, 2),
            "no_latency_wall_seconds": [round(w, 3) for w in fast],
            "no_latency_rows_per_second": round(self.args.rows / fast_wall, 1),
            "sql_statements_per_row": queries,
        }
        if bare_call is not None:
            figures["bare_client_ratio"] = round(bare_call / (latency / 1000), 4)
            figures["ratio_to_bare_client"] = round(wall / (self.args.rows * bare_call), 4)
        if floor_call is not None:
            figures["committed_write_floor_ratio"] = round(floor_call / (latency / 1000), 4)
        figures["ok"] = figures["ratio"] is None or figures["ratio"] <= TARGET_RATIO
        return figures

    def _job(self, rows: int) -> tuple[Any, int]:
        from jobs.services.approval import job_approve
        from jobs.services.creation import job_create

        self.jobs += 1
        name = f"exec{self.jobs}.csv"
        write_orders_csv(self.folder / "sources" / name, rows, prefix=f"E{self.jobs}-")
        job = job_create(source=csv_source(name, name), actor=self.operator, mode="auto")
        token = job_approve(job=job, acting_user=self.operator, in_background=False)
        return job, token

    def _set_latency(self, latency_ms: int) -> None:
        self.sandbox.reset()
        if latency_ms:
            requests.post(
                f"{self.sandbox.url}/__sandbox/faults",
                json={"kind": "latency", "ms": latency_ms},
                timeout=10,
            ).raise_for_status()

    def _execute(self, rows: int, latency_ms: int) -> float:
        from jobs.services.execution import job_execute

        job, token = self._job(rows)
        self._set_latency(latency_ms)
        started = time.perf_counter()
        job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
        wall = time.perf_counter() - started
        job.refresh_from_db()
        if job.status != "completed" or job.shipped_count != rows:
            raise SystemExit(f"bench: job {job.pk} ended {job.status} ({job.shipped_count} rows)")
        return wall

    def _bare_call_seconds(
        self, calls: int, latency_ms: int, *, commit_first: bool = False
    ) -> float | None:
        """Return the mean seconds of one ship call by the bare UPS client.

        What the HTTP client and the sandbox's framing cost on their own at
        ``latency_ms``; the executor's ratio can come no lower than this. With
        ``commit_first``, each call follows one single-row UPDATE, a
        transaction of its own (Django's autocommit).
        """
        from django.db import connection

        from jobs.models import JobRow
        from jobs.shipping import ship_from_for, shipment_request
        from ups.client import get_client

        if not latency_ms:
            return None
        row = JobRow.objects.select_related("job__data_source").first()
        assert row is not None
        request = shipment_request(row=row, ship_from=ship_from_for(row.job.data_source))
        client = get_client()
        table = connection.ops.quote_name(JobRow._meta.db_table)
        touch = f"UPDATE {table} SET attempts = attempts WHERE id = %s"  # noqa: S608 (our table)
        self._set_latency(latency_ms)
        started = time.perf_counter()
        for _ in range(calls):
            if commit_first:
                with connection.cursor() as cursor:
                    cursor.execute(touch, [row.pk])
            client.ship(request)
        return (time.perf_counter() - started) / calls

    def _count_queries(self, rows: int) -> float:
        from django.db import connection

        from jobs.services.execution import job_execute

        job, token = self._job(rows)
        self._set_latency(0)
        statements = 0

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
        return round(statements / rows, 1)


def run_child(database: str, args: argparse.Namespace) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--database", database, "--child"]
    argv += ["--rows", str(args.rows), "--latency-ms", str(args.latency_ms)]
    argv += ["--repeat", str(args.repeat)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr)
        raise SystemExit(f"bench: the {database} run failed")
    return dict(json.loads(done.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory(prefix="shipops-bench-") as folder:
            figures = ExecutorBench(args, Path(folder)).run()
        print(json.dumps(figures))
        return 0 if figures["ok"] else 1
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    report: dict[str, Any] = {"environment": environment(), "target_ratio": TARGET_RATIO}
    report["runs"] = [run_child(database, args) for database in databases]
    report["ok"] = all(run["ok"] for run in report["runs"])
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
