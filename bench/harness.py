"""Shared helpers of the bench scripts: a fresh data folder and database, real subprocesses.

Every script points this process (and the ``manage.py`` commands it starts)
at a temporary folder, a sandbox on a free port and either a SQLite file in
that folder or a dedicated PostgreSQL database recreated for the run.
"""

from __future__ import annotations

import csv
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
MANAGE = str(ROOT / "manage.py")
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "shipops_bench"
BENCH_REDIS_URL = "redis://127.0.0.1:6379/14"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def configure(
    folder: Path,
    sandbox_url: str,
    latency_ms: int,
    *,
    database_url: str = "",
    redis_url: str = "",
    **settings: str,
) -> dict[str, str]:
    """Point this process (and the ones it starts) at a fresh data folder and sandbox.

    ``settings`` are more environment variables (``SHIPOPS_WORKERS="4"``...).
    """
    env = {
        "DJANGO_SETTINGS_MODULE": "shipops.settings",
        "SHIPOPS_DATA_DIR": str(folder),
        "SHIPOPS_LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "false",  # as in production: no SQL kept in memory
        "UPS_ENV": "sandbox",
        "UPS_SANDBOX_URL": sandbox_url,
        "UPS_SANDBOX_LATENCY_MS": str(latency_ms),
        **settings,
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return {**os.environ}


def setup_django() -> None:
    """Start Django in this process and create the schema (migrations, cache table)."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def recreate_postgres(name: str = BENCH_DATABASE) -> str:
    """Drop and create the PostgreSQL database ``name``; return its URL."""
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def flush_redis(url: str = BENCH_REDIS_URL) -> str:
    """Empty the Redis database of ``url`` (the bench's own); return the URL."""
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a manage.py command in its own process group, its output going to ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, MANAGE, *argv],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the process group; one that ignores SIGTERM for 10 s is killed."""
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: gave up waiting for {what}")
        time.sleep(0.1)


class Sandbox:
    """``manage.py ups_sandbox`` in its own process, on the port of ``UPS_SANDBOX_URL``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.url = env["UPS_SANDBOX_URL"]
        port = self.url.rsplit(":", 1)[1]
        self.process = start(["ups_sandbox", "--port", port], env, log)
        wait_for(self._up, timeout=30, what="the UPS sandbox")

    def _up(self) -> bool:
        try:
            return requests.get(f"{self.url}/__sandbox/health", timeout=1).ok
        except requests.RequestException:
            return False

    def ledger(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.url}/__sandbox/ledger", timeout=30)
        return list(answer.json()["shipments"])

    def reset(self) -> None:
        requests.post(f"{self.url}/__sandbox/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        kill_group(self.process, signal.SIGTERM)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


ORDER_COLUMNS = ["order_id", "recipient", "address1", "city", "state", "zip", "weight"]


def order_lines(rows: int, prefix: str = "D") -> Iterator[list[str]]:
    """Yield ``rows`` valid order lines (the cells of ORDER_COLUMNS, key ``order_id``)."""
    for n in range(1, rows + 1):
        key, street = f"{prefix}{n:05d}", f"{n} Peachtree St"
        yield [key, f"Customer {n}", street, "Atlanta", "GA", "30303", "3"]


def write_orders_csv(path: Path, rows: int, prefix: str = "D") -> None:
    """Write ``rows`` valid order lines (7 columns, key ``order_id``) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ORDER_COLUMNS)
        writer.writerows(order_lines(rows, prefix))


def write_orders_xlsx(path: Path, rows: int, prefix: str = "D") -> None:
    """Write the order lines of ``write_orders_csv`` to the one sheet of a new workbook."""
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Orders")
    sheet.append(ORDER_COLUMNS)
    for line in order_lines(rows, prefix):
        sheet.append(line)
    workbook.save(path)


def make_operator(username: str = "bench") -> Any:
    """Return a staff user allowed to approve jobs."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user(username, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="approve_job"))
    return User.objects.get(pk=user.pk)


def file_source(name: str, file_path: str, kind: str) -> Any:
    """Save a data source of ``kind`` ("csv" or "excel") on a file, keyed by ``order_id``."""
    from datasources.models import DataSource

    return DataSource.objects.create(
        name=name, kind=kind, file_path=file_path, key_column="order_id"
    )


def csv_source(name: str, file_path: str) -> Any:
    return file_source(name, file_path, "csv")


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Return the peak resident memory of this process (or its waited-for children) in MB."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(run[key] for run in runs)), 4)


def environment() -> dict[str, Any]:
    """Describe where the figures were taken."""
    import platform

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_at_start": load_average(),
    }
