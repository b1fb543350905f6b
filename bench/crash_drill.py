"""Crash drill: SIGKILL a real qcluster mid-batch again and again, recover, prove exactly-once.

Run from the project root (it prints one JSON object and exits 1 if a promise broke):

    .venv/bin/python bench/crash_drill.py --rows 120 --kills 8

Each round starts ``manage.py qcluster`` in its own process group, waits until
it has shipped at least one more row, kills the whole group with SIGKILL at a
random moment, waits for the lease to lapse and recovers as an operator
would: mark the job interrupted, resume (unknown rows are looked up at UPS by
reference; a row UPS has no record of is marked "not shipped", the decision a
person would take after checking, once UPS can no longer create its shipment:
the drill shortens the UPS timeouts and the send deadline so that this takes
17.5 s, not the 75 s of the defaults). The last round lets the batch finish.
Then every row must be shipped exactly once according to the sandbox's
ledger, with the same tracking number in the database, in the source file and
in the audit trail. It uses its own sandbox and its own database: a temporary
SQLite file, or with ``--database postgres`` the PostgreSQL database
``shipops_bench``, dropped and created again.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import configure as configure_bench
from harness import (
    csv_source,
    free_port,
    kill_group,
    make_operator,
    recreate_postgres,
    start,
    wait_for,
    write_orders_csv,
)

LEASE_SECONDS = 3  # longer than one UPS call (0.5 s connect + 2 s read), see configure


def configure(
    folder: Path, sandbox_url: str, latency_ms: int, database_url: str = ""
) -> dict[str, str]:
    """Point this process (and the ones it starts) at a fresh data folder and sandbox."""
    return configure_bench(
        folder,
        sandbox_url,
        latency_ms,
        database_url=database_url,
        SHIPOPS_LEASE_SECONDS=str(LEASE_SECONDS),
        SHIPOPS_HANDOVER_SECONDS=str(LEASE_SECONDS),
        SHIPOPS_WRITEBACK_FLUSH_SECONDS="0.5",
        SHIPOPS_EXECUTOR_SLICE_SECONDS="10",
        SHIPOPS_WORKERS="1",
        SHIPOPS_CLUSTER_NAME=f"drill{os.getpid()}",
        UPS_CONNECT_TIMEOUT="0.5",
        UPS_READ_TIMEOUT="2",
        # "Not shipped" waits out the longest a ship call may take: 17.5 s with these
        # values (send within 5 s of phase A, a connect and a read timeout, 10 s settling).
        UPS_SHIP_SEND_SECONDS="5",
    )


class Drill:
    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.random = random.Random(args.seed)
        self.sandbox_url = f"http://127.0.0.1:{free_port()}"
        database_url = recreate_postgres() if args.database == "postgres" else ""
        self.env = configure(folder, self.sandbox_url, args.latency_ms, database_url)
        self.figures: dict[str, Any] = {
            "rows": args.rows,
            "kills": 0,
            "resumes": 0,
            "decided_not_shipped": 0,
            "waited_for_ups_seconds": 0,
        }

    def run(self) -> dict[str, Any]:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        port = self.sandbox_url.rsplit(":", 1)[1]
        sandbox = start(["ups_sandbox", "--port", port], self.env, self.log("sandbox"))
        try:
            wait_for(self._sandbox_up, timeout=30, what="the UPS sandbox")
            started = time.monotonic()
            job = self._create_job()
            self._rounds(job)
            self.figures["wall_seconds"] = round(time.monotonic() - started, 1)
            self.figures.update(self._verify(job))
        finally:
            kill_group(sandbox, signal.SIGTERM)
        return self.figures

    def log(self, name: str) -> Path:
        return Path(self.env["SHIPOPS_DATA_DIR"]) / f"{name}.log"

    def _sandbox_up(self) -> bool:
        try:
            return requests.get(f"{self.sandbox_url}/__sandbox/health", timeout=1).ok
        except requests.RequestException:
            return False

    def _create_job(self) -> Any:
        from jobs.services.approval import job_approve
        from jobs.services.creation import job_create

        write_orders_csv(
            Path(self.env["SHIPOPS_DATA_DIR"]) / "sources" / "drill.csv", self.args.rows
        )
        self.operator = make_operator("drill")
        source = csv_source("drill", "drill.csv")
        job = job_create(source=source, actor=self.operator, mode="auto")
        job_approve(job=job, acting_user=self.operator)  # queued for the cluster
        return job

    def _rounds(self, job: Any) -> None:
        from jobs.states import JOB_FINAL_STATUSES

        while True:
            job.refresh_from_db()
            if job.status in JOB_FINAL_STATUSES:
                return
            cluster = start(["qcluster"], self.env, self.log("cluster"))
            if self.figures["kills"] < self.args.kills:
                before = job.shipped_count
                wait_for(
                    partial(self._progressed, job, before),
                    timeout=120,
                    what="the cluster to ship a row",
                )
                time.sleep(self.random.uniform(0, self.args.max_wait))
                kill_group(cluster)
                self.figures["kills"] += 1
                time.sleep(LEASE_SECONDS + 0.5)
                self._recover(job)
            else:
                wait_for(lambda: self._stopped(job), timeout=self.args.timeout, what="the batch")
                kill_group(cluster, signal.SIGTERM)
                self._recover(job)

    def _progressed(self, job: Any, shipped_before: int) -> bool:
        job.refresh_from_db(fields=["shipped_count", "status"])
        return int(job.shipped_count) > shipped_before or self._stopped(job)

    def _stopped(self, job: Any) -> bool:
        job.refresh_from_db(fields=["status"])
        return job.status not in {"approved", "running"}

    def _recover(self, job: Any) -> None:
        from jobs.actors import system_actor
        from jobs.models import JobRow
        from jobs.services.recovery import jobs_mark_lapsed
        from jobs.services.resume import job_resume
        from shipops.errors import DomainError

        jobs_mark_lapsed(actor=system_actor("crash drill"))
        job.refresh_from_db()
        if job.status not in {"interrupted", "failed"}:
            return
        try:
            job_resume(job=job, actor=self.operator)
        except DomainError as error:
            if error.code != "needs_decision":
                raise
            for row in JobRow.objects.filter(pk__in=error.details["rows"]):
                self.decide(row)  # UPS has no record of it
                self.figures["decided_not_shipped"] += 1
            job_resume(job=job, actor=self.operator)
        self.figures["resumes"] += 1

    def decide(self, row: Any, tracking_number: Callable[[], str] = str) -> None:
        """Decide an unknown row as a person would, waiting while UPS may still answer it.

        ``tracking_number`` is what the person found (empty: not shipped), asked
        again after every wait, since UPS may have answered meanwhile.
        """
        from jobs.services.reconcile import row_decide_unknown
        from shipops.errors import DomainError

        while True:
            try:
                row_decide_unknown(row=row, actor=self.operator, tracking_number=tracking_number())
                return
            except DomainError as error:
                if error.code != "ups_may_answer":
                    raise
                self.figures["waited_for_ups_seconds"] += error.details["seconds"]
                time.sleep(error.details["seconds"])

    def _verify(self, job: Any) -> dict[str, Any]:
        from jobs.models import AuditEntry, JobRow

        job.refresh_from_db()
        ledger = requests.get(f"{self.sandbox_url}/__sandbox/ledger", timeout=10).json()[
            "shipments"
        ]
        live: dict[str, list[str]] = {}
        for entry in ledger:
            if not entry.get("voided"):
                live.setdefault(entry["reference"], []).append(entry["tracking_number"])
        rows = list(JobRow.objects.filter(job=job))
        path = Path(self.env["SHIPOPS_DATA_DIR"]) / "sources" / "drill.csv"
        with path.open(newline="", encoding="utf-8-sig") as handle:
            in_file = {
                line["order_id"]: line.get("tracking_number") or ""
                for line in csv.DictReader(handle)
            }
        audited = set(
            AuditEntry.objects.filter(job=job, row__isnull=False)
            .filter(action__in=["row_shipped", "row_reconciled", "row_decided_shipped"])
            .values_list("row_id", flat=True)
        )
        duplicates = sum(1 for tracking in live.values() if len(tracking) > 1)
        reconciled = AuditEntry.objects.filter(job=job, action="row_reconciled").count()
        checks = {
            "reconciled_by_reference": reconciled,
            "job_status": job.status,
            "shipments_in_ledger": sum(len(tracking) for tracking in live.values()),
            "rows_shipped_twice": duplicates,
            "rows_not_shipped": sum(1 for row in rows if row.status != "shipped"),
            "tracking_not_in_database": sum(
                1 for row in rows if live.get(row.reference, [""])[0] != row.tracking_number
            ),
            "tracking_not_in_source": sum(
                1 for row in rows if in_file.get(row.source_key) != row.tracking_number
            ),
            "shipped_rows_without_audit": sum(1 for row in rows if row.pk not in audited),
            # A row whose ship answer was lost gets its label from UPS's Label Recovery.
            "shipped_rows_without_label": sum(
                1 for row in rows if row.status == "shipped" and not row.label
            ),
        }
        checks["ok"] = (
            job.status == "completed"
            and checks["shipments_in_ledger"] == len(rows) == self.args.rows
            and not any(
                checks[key] for key in checks if key.startswith(("rows_", "tracking_", "shipped_"))
            )
        )
        return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=120)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--latency-ms", type=int, default=30, help="sandbox latency per call")
    parser.add_argument(
        "--max-wait",
        type=float,
        default=1.5,
        help="longest random pause after a row ships before the SIGKILL (s)",
    )
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipops-drill-") as folder:
        try:
            figures = Drill(args, Path(folder)).run()
        except SystemExit:
            log = Path(folder) / "cluster.log"
            if log.exists():
                sys.stderr.write("".join(log.read_text().splitlines(True)[-40:]))
            raise
    print(json.dumps(figures, indent=2))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
