"""Fault campaign: many crash drills with UPS faults mixed in; prove exactly-once after each.

Run from the project root (one JSON object per run, then a summary; exit 1 if a
promise broke):

    .venv/bin/python bench/fault_campaign.py --runs 4 --rows 60 --kills 8 --seed 1

Each run is its own process with its own database (a temporary SQLite file,
or with ``--database postgres`` the PostgreSQL database ``shipops_bench``
created again), source file and ``manage.py ups_sandbox``
(``bench/crash_drill.py``'s ``Drill``).
Before every round the run arms sandbox faults through the control API
(``POST /__sandbox/faults``): 429 and 5xx answers, a timeout with and without
the shipment created, dropped connections before and after the work, an
expired token, a truncated answer, on ship and on the track calls that
reconciliation makes. Then it starts ``manage.py qcluster`` and SIGKILLs it at
a random moment after at least one more row shipped (a kill counts only when
the job was running at that moment). After every kill or stop it recovers as
an operator would: jobs whose lease lapsed are marked interrupted, resume
reconciles unknown rows at UPS by reference, and where UPS has no record of a
row the run acts as the person who decides, the way a person would check:
the sandbox's ledger has a live shipment with the row's reference -> "shipped,
tracking 1Z..."; no record -> "not shipped" (it ships again on resume).

At the end of each run every row must be shipped exactly once according to
the ledger, with the same tracking number in the database and the source file,
and the job's audit trail must replay through the jobs.states tables to the
status of the job, of every row and of every write-back.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crash_drill import LEASE_SECONDS, Drill, kill_group, start, wait_for

# (kind, endpoint, parameters): what a run may arm before a round.
FAULTS: list[tuple[str, str, dict[str, Any]]] = [
    ("http_429", "ship", {"retry_after": 1}),
    ("http_500", "ship", {}),
    ("http_503", "ship", {}),
    ("timeout", "ship", {"hold_seconds": 3}),
    ("timeout_after_ship", "ship", {"hold_seconds": 3}),
    ("drop_connection", "ship", {"after_work": False}),
    ("drop_connection", "ship", {"after_work": True}),
    ("expired_token", "ship", {}),
    ("malformed", "ship", {"variant": "truncated"}),
    ("http_503", "track", {}),
    ("expired_token", "track", {}),
    ("http_503", "label", {}),
]
RESUME_ATTEMPTS = 6


def fault_name(kind: str, endpoint: str, params: dict[str, Any]) -> str:
    """Return the name the results table uses: ``ship:drop_connection(after_work)``."""
    suffix = "(after_work)" if params.get("after_work") else ""
    return f"{endpoint}:{kind}{suffix}"


class FaultRun(Drill):
    """One crash drill whose sandbox also misbehaves on purpose."""

    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        super().__init__(args, folder)
        self.armed: dict[int, str] = {}
        self.figures.update(
            {
                "seed": args.seed,
                "kills_idle": 0,
                "kills_with_row_in_flight": 0,
                "faults_armed": Counter(),
                "faults_fired": Counter(),
                "decided_shipped": 0,
                "reconcile_retries": 0,
                "labels_fetched_by_a_person": 0,
            }
        )

    # Rounds: arm faults, start a cluster, kill it mid-batch, recover.

    def _rounds(self, job: Any) -> None:
        from jobs.states import JOB_FINAL_STATUSES

        while True:
            job.refresh_from_db()
            if job.status in JOB_FINAL_STATUSES:
                return
            self._arm_faults()
            cluster = start(["qcluster"], self.env, self.log("cluster"))
            if self.figures["kills"] < self.args.kills:
                wait_for(
                    partial(self._progressed, job, job.shipped_count),
                    timeout=120,
                    what="the cluster to ship a row or stop",
                )
                if not self._stopped(job):
                    time.sleep(self.random.uniform(0, self.args.max_wait))
                if self._kill(job, cluster):
                    time.sleep(LEASE_SECONDS + 0.5)  # until the lease lapses
            else:
                wait_for(lambda: self._stopped(job), timeout=self.args.timeout, what="the batch")
                kill_group(cluster, signal.SIGTERM)
            self._note_fired()
            self._recover(job)

    def _kill(self, job: Any, cluster: subprocess.Popen[bytes]) -> bool:
        """SIGKILL the cluster; return whether the job was running at that moment."""
        from jobs.models import JobRow

        job.refresh_from_db(fields=["status"])
        running = job.status == "running"
        in_flight = JobRow.objects.filter(job=job, status="in_flight").exists()
        kill_group(cluster)
        if running:
            self.figures["kills"] += 1
            self.figures["kills_with_row_in_flight"] += in_flight
        else:  # a fault stopped the batch first: the kill does not count
            self.figures["kills_idle"] += 1
        return running

    def _arm_faults(self) -> None:
        for _ in range(self.random.choice([0, 0, 1, 1, 2])):
            kind, endpoint, params = self.random.choice(FAULTS)
            fault = {
                "kind": kind,
                "endpoint": endpoint,
                "after": self.random.randint(1, 10),
                "count": 1,
                **params,
            }
            answer = requests.post(f"{self.sandbox_url}/__sandbox/faults", json=fault, timeout=5)
            answer.raise_for_status()
            name = fault_name(kind, endpoint, params)
            for stored in answer.json()["faults"]:
                self.armed[int(stored["id"])] = name
            self.figures["faults_armed"][name] += 1

    def _note_fired(self) -> None:
        """Move the faults the sandbox has used up (count 1) from armed to fired."""
        active = requests.get(f"{self.sandbox_url}/__sandbox/faults", timeout=5).json()["faults"]
        still = {int(fault["id"]) for fault in active}
        for fault_id in [fault_id for fault_id in self.armed if fault_id not in still]:
            self.figures["faults_fired"][self.armed.pop(fault_id)] += 1

    # Recovery, with the campaign as the person who decides.

    def _recover(self, job: Any) -> None:
        from jobs.actors import system_actor
        from jobs.models import JobRow
        from jobs.services.recovery import jobs_mark_lapsed
        from jobs.services.resume import job_resume
        from shipops.errors import DomainError

        jobs_mark_lapsed(actor=system_actor("fault campaign"))
        job.refresh_from_db()
        if job.status not in {"interrupted", "failed"}:
            return
        for _ in range(RESUME_ATTEMPTS):
            try:
                job_resume(job=job, actor=self.operator)
            except DomainError as error:
                if error.code == "needs_decision":
                    for row in JobRow.objects.filter(pk__in=error.details["rows"]):
                        self._decide(row)
                elif error.code == "reconcile_failed":  # UPS's track call failed: try again
                    self.figures["reconcile_retries"] += 1
                    time.sleep(1)
                else:
                    raise
                self._note_fired()
                continue
            self.figures["resumes"] += 1
            return
        raise SystemExit(f"fault campaign: job {job.pk} could not be resumed")

    def _decide(self, row: Any) -> None:
        """Decide an unknown row UPS did not find by reference, after checking the ledger."""
        found: list[str] = []

        def live_in_ledger() -> str:
            ledger = requests.get(
                f"{self.sandbox_url}/__sandbox/ledger",
                params={"reference": row.reference},
                timeout=5,
            ).json()["shipments"]
            found[:] = [entry["tracking_number"] for entry in ledger if not entry.get("voided")]
            if len(found) > 1:
                raise SystemExit(f"fault campaign: {row.reference} shipped {len(found)} times")
            return "".join(found)

        self.decide(row, live_in_ledger)
        self.figures["decided_shipped" if found else "decided_not_shipped"] += 1

    def _verify(self, job: Any) -> dict[str, Any]:
        from jobs.selectors import rows_without_label
        from jobs.services.audit import audit_trail_problems
        from jobs.services.label_recovery import job_fetch_labels

        self._note_fired()
        # A label fault hit a fetch: the person asks again, as with the job page's button.
        if rows_without_label(job_id=job.pk).exists():
            requests.delete(f"{self.sandbox_url}/__sandbox/faults", timeout=5)
            fetched = job_fetch_labels(job=job, actor=self.operator, budget_seconds=None).fetched
            self.figures["labels_fetched_by_a_person"] += len(fetched)
        checks = super()._verify(job)
        problems = audit_trail_problems(job)
        checks["audit_trail_problems"] = problems[:10]
        checks["ok"] = checks["ok"] and not problems
        return checks


def one_run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="shipops-campaign-") as folder:
        try:
            figures = FaultRun(args, Path(folder)).run()
        except SystemExit as stop:
            log = Path(folder) / "cluster.log"
            tail = "".join(log.read_text().splitlines(True)[-40:]) if log.exists() else ""
            figures = {"seed": args.seed, "ok": False, "error": str(stop), "log_tail": tail}
    print(json.dumps(figures))
    return 0 if figures["ok"] else 1


def campaign(args: argparse.Namespace) -> int:
    seeds = random.Random(args.seed).sample(range(1, 10**6), args.runs)
    load_before = os.getloadavg()
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    for seed in seeds:
        command = [
            sys.executable,
            __file__,
            "--one-run",
            f"--seed={seed}",
            f"--rows={args.rows}",
            f"--kills={args.kills}",
            f"--latency-ms={args.latency_ms}",
            f"--max-wait={args.max_wait}",
            f"--timeout={args.timeout}",
            f"--database={args.database}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        lines = done.stdout.strip().splitlines()
        figures: dict[str, Any] = json.loads(lines[-1]) if lines else {"seed": seed, "ok": False}
        figures.setdefault("error", done.stderr[-2000:] if done.returncode else "")
        results.append(figures)
        print(json.dumps(figures), flush=True)
    totals: Counter[str] = Counter()
    for figures in results:
        for key in ("faults_armed", "faults_fired"):
            totals.update({f"{key}:{k}": v for k, v in figures.get(key, {}).items()})
    summary = {
        "database": args.database,
        "runs": len(results),
        "ok_runs": sum(1 for figures in results if figures.get("ok")),
        "wall_seconds": round(time.monotonic() - started, 1),
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        **{
            key: sum(int(figures.get(key, 0)) for figures in results)
            for key in (
                "rows",
                "kills",
                "kills_with_row_in_flight",
                "kills_idle",
                "resumes",
                "reconciled_by_reference",
                "decided_shipped",
                "decided_not_shipped",
                "waited_for_ups_seconds",
                "reconcile_retries",
                "rows_shipped_twice",
                "rows_not_shipped",
                "tracking_not_in_database",
                "tracking_not_in_source",
                "shipped_rows_without_audit",
                "shipped_rows_without_label",
                "labels_fetched_by_a_person",
            )
        },
        "audit_trail_problems": sum(len(f.get("audit_trail_problems", [])) for f in results),
        "faults_fired": {
            key.split(":", 1)[1]: value
            for key, value in sorted(totals.items())
            if key.startswith("faults_fired:")
        },
        "faults_armed": sum(v for k, v in totals.items() if k.startswith("faults_armed:")),
    }
    print(json.dumps({"summary": summary}, indent=2))
    return 0 if summary["ok_runs"] == summary["runs"] else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--rows", type=int, default=60)
    parser.add_argument("--kills", type=int, default=8, help="SIGKILLs mid-batch per run")
    parser.add_argument("--latency-ms", type=int, default=30, help="sandbox latency per call")
    parser.add_argument("--max-wait", type=float, default=1.5, help="longest pause before a kill")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        return one_run(args)
    return campaign(args)


if __name__ == "__main__":
    sys.exit(main())
