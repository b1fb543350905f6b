"""Scale-out: one vs three ``qcluster`` processes on PostgreSQL and Redis; prints JSON.

Run from the project root (about a minute per repeat):

    .venv/bin/python bench/bench_scaleout.py [--jobs 12] [--rows 100] [--workers 4]

Each round recreates the PostgreSQL database ``shipops_bench``, empties
Redis database 14 (django-q2's broker and the cache), starts a sandbox
answering every call ``--latency-ms`` after it received it, starts N real
``manage.py qcluster`` processes (the same cluster name, so one queue), and
approves ``--jobs`` jobs of ``--rows`` rows at once. Wall time runs from the
approvals to the last job completed. Then it checks what DESIGN.md promises:

- no shipment twice: the sandbox's ledger holds every row reference exactly once;
- every job on exactly one worker at a time: in each job's audit trail,
  sorted by time, the worker acting changes only at a ``lease_claimed`` entry.

Exits 1 when a check fails or three clusters are not 2.5 times as fast as one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    Sandbox,
    configure,
    csv_source,
    environment,
    flush_redis,
    free_port,
    kill_group,
    load_average,
    make_operator,
    recreate_postgres,
    start,
    wait_for,
    write_orders_csv,
)

TARGET_SPEED_UP = 2.5
FINAL = {"completed", "completed_with_warnings", "failed", "cancelled", "interrupted"}


def run_round(args: argparse.Namespace, clusters: int, folder: Path) -> dict[str, Any]:
    """Ship the workload with ``clusters`` clusters; return the figures and the checks."""
    env = configure(
        folder,
        f"http://127.0.0.1:{free_port()}",
        0,
        database_url=recreate_postgres(),
        redis_url=flush_redis(),
        SHIPOPS_WORKERS=str(args.workers),
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connections

    from jobs.models import Job
    from jobs.services.approval import job_approve
    from jobs.services.creation import job_create

    operator = make_operator()
    jobs = []
    for number in range(1, args.jobs + 1):
        name = f"scale{number}.csv"
        write_orders_csv(folder / "sources" / name, args.rows, prefix=f"S{number}-")
        jobs.append(job_create(source=csv_source(name, name), actor=operator, mode="auto"))
    with Sandbox(env, folder / "sandbox.log") as sandbox:
        requests.post(
            f"{sandbox.url}/__sandbox/faults",
            json={"kind": "latency", "ms": args.latency_ms},
            timeout=10,
        ).raise_for_status()
        processes = [start(["qcluster"], env, folder / f"cluster{n}.log") for n in range(clusters)]
        try:
            time.sleep(args.warm_up)  # let every cluster start its workers
            load = load_average()
            started = time.perf_counter()
            for job in jobs:
                job_approve(job=job, acting_user=operator)
            ids = [job.pk for job in jobs]

            def all_done() -> bool:
                statuses = Job.objects.filter(pk__in=ids).values_list("status", flat=True)
                return all(status in FINAL for status in statuses)

            wait_for(all_done, timeout=args.timeout, what="the jobs")
            wall = time.perf_counter() - started
        finally:
            for process in processes:
                kill_group(process, __import__("signal").SIGTERM)
        ledger = sandbox.ledger()
    figures = {"clusters": clusters, "load_at_start": load, "wall_seconds": round(wall, 3)}
    figures["rows_per_second"] = round(args.jobs * args.rows / wall, 1)
    figures.update(check(ids, ledger, args.jobs * args.rows))
    connections.close_all()
    return figures


def check(job_ids: list[int], ledger: list[dict[str, Any]], expected: int) -> dict[str, Any]:
    from jobs.models import AuditEntry, Job, JobRow

    references = Counter(entry["reference"] for entry in ledger)
    rows = set(JobRow.objects.filter(job_id__in=job_ids).values_list("reference", flat=True))
    overlaps = 0
    workers_per_job = []
    for job_id in job_ids:
        entries = (
            AuditEntry.objects.filter(job_id=job_id, actor_label__startswith="worker ")
            .order_by("created_at", "pk")
            .values_list("actor_label", "action")
        )
        previous = None
        for label, action in entries:
            if label != previous and action != "lease_claimed":
                overlaps += 1  # another worker wrote without claiming the job first
            previous = label
        workers_per_job.append(len({label for label, _ in entries}))
    statuses = Counter(Job.objects.filter(pk__in=job_ids).values_list("status", flat=True))
    result = {
        "job_statuses": dict(statuses),
        "shipments_in_ledger": len(ledger),
        "references_shipped_twice": sum(1 for count in references.values() if count > 1),
        "rows_not_in_ledger": len(rows - set(references)),
        "worker_changes_without_claim": overlaps,
        "workers_per_job_max": max(workers_per_job),
        "distinct_workers": len(
            set(
                AuditEntry.objects.filter(job_id__in=job_ids, action="lease_claimed").values_list(
                    "actor_label", flat=True
                )
            )
        ),
    }
    result["ok"] = (
        statuses == Counter({"completed": len(job_ids)})
        and len(ledger) == expected
        and not result["references_shipped_twice"]
        and not result["rows_not_in_ledger"]
        and not overlaps
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="SHIPOPS_WORKERS per cluster")
    parser.add_argument("--clusters", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warm-up", type=float, default=6.0)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--one-round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_round:
        with tempfile.TemporaryDirectory(prefix="shipops-scale-") as folder:
            print(json.dumps(run_round(args, args.one_round, Path(folder))))
        return 0
    report: dict[str, Any] = {"environment": environment(), "workers_per_cluster": args.workers}
    report.update({"jobs": args.jobs, "rows_per_job": args.rows, "latency_ms": args.latency_ms})
    rounds: dict[int, list[dict[str, Any]]] = {1: [], args.clusters: []}
    for _ in range(args.repeat):
        for clusters in rounds:
            rounds[clusters].append(child_round(args, clusters))
    for clusters, runs in rounds.items():
        report[f"clusters_{clusters}"] = {
            "runs": runs,
            "median_rows_per_second": statistics.median(run["rows_per_second"] for run in runs),
        }
    one = report["clusters_1"]["median_rows_per_second"]
    many = report[f"clusters_{args.clusters}"]["median_rows_per_second"]
    report["speed_up"] = round(many / one, 2)
    report["ok"] = report["speed_up"] >= TARGET_SPEED_UP and all(
        run["ok"] for runs in rounds.values() for run in runs
    )
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


def child_round(args: argparse.Namespace, clusters: int) -> dict[str, Any]:
    """Run one round in a fresh process: Django's settings cannot be set up twice."""
    import subprocess

    argv = [sys.executable, __file__, "--one-round", str(clusters)]
    for name in ("jobs", "rows", "latency_ms", "workers", "warm_up", "timeout"):
        argv += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"bench: the round with {clusters} clusters failed")
    return dict(json.loads(done.stdout))


if __name__ == "__main__":
    sys.exit(main())
