"""manage.py as an operator runs it: production checks pass, bad configuration is one sentence."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.fixtures.network import free_port

PRODUCTION_ENV = {
    "SHIPOPS_ENV": "production",
    "DJANGO_SECRET_KEY": "k" + secrets.token_urlsafe(60),
    "DJANGO_ALLOWED_HOSTS": "shipops.example.com",
}


def manage(*args: str, env: dict[str, str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPOPS_", "DJANGO_"))}
    clean.pop("DATABASE_URL", None)
    clean |= {"SHIPOPS_DATA_DIR": str(data_dir), **env}
    return subprocess.run(  # noqa: S603
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_passes_with_the_production_variables(tmp_path: Path) -> None:
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, data_dir=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SHIPOPS_ENV": "production"},
            "DJANGO_SECRET_KEY is not set: production needs a long random secret key.",
        ),
        (
            {**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": ""},
            "DJANGO_ALLOWED_HOSTS is not set",
        ),
        ({**PRODUCTION_ENV, "DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY is too weak"),
        ({"DATABASE_URL": "mysql://root@db/shipops"}, "DATABASE_URL has the scheme 'mysql'"),
        ({"SHIPOPS_ENV": "staging"}, "SHIPOPS_ENV='staging' is not known"),
        ({"UPS_ENV": "live"}, "UPS_ENV='live' is not known"),
        (
            {"SHIPOPS_LEASE_SECONDS": "30"},
            "SHIPOPS_LEASE_SECONDS=30 must be longer than one UPS call may take "
            "(UPS_CONNECT_TIMEOUT + UPS_READ_TIMEOUT = 35 s)",
        ),
        (
            {**PRODUCTION_ENV, "UPS_ENV": "production"},
            "UPS_CLIENT_ID is not set: UPS_ENV=production needs UPS credentials",
        ),
    ],
)
def test_bad_configuration_is_one_clear_sentence(
    env: dict[str, str], message: str, tmp_path: Path
) -> None:
    result = manage("check", env=env, data_dir=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_user_is_refused_in_production(tmp_path: Path) -> None:
    result = manage("demo_user", env=PRODUCTION_ENV, data_dir=tmp_path)
    assert result.returncode == 1
    assert "The demo user is refused here" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_default_database_is_a_wal_sqlite_file_whose_commits_reach_the_disk(
    tmp_path: Path,
) -> None:
    # WAL: the web reads while the cluster writes. synchronous=FULL (2): a commit is on disk
    # when it returns, so a power cut cannot undo an in-flight mark or a tracking number.
    # IMMEDIATE: a transaction takes the write lock as it opens, not on its first write.
    code = (
        "from django.db import connection as c\n"
        "k = c.cursor()\n"
        "for pragma in ('journal_mode', 'synchronous'):\n"
        "    k.execute(f'PRAGMA {pragma}')\n"
        "    print(k.fetchone()[0])\n"
        "print(c.transaction_mode)"
    )
    result = manage("shell", "-c", code, env={}, data_dir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split()[-3:] == ["wal", "2", "IMMEDIATE"]
    assert (tmp_path / "shipops.sqlite3").is_file()


def test_serve_ends_with_status_1_when_a_part_of_it_dies(tmp_path: Path) -> None:
    result = manage("serve", "--addr", "bogus::", env={}, data_dir=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "stopped; the rest was stopped too." in result.stderr


def _process_table() -> dict[int, tuple[int, str]]:
    """Every process: its parent and state, from POSIX ``ps`` (Linux and macOS alike)."""
    listing = subprocess.run(
        ["ps", "-A", "-o", "pid=,ppid=,stat="],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table = {}
    for line in listing.splitlines():
        pid, ppid, state = line.split(maxsplit=2)
        table[int(pid)] = (int(ppid), state)
    return table


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``."""
    return {child for child, (parent, _state) in _process_table().items() if parent == pid}


def _descendants(pid: int) -> set[int]:
    """The processes under ``pid``: its children, theirs, and so on."""
    found = set()
    for child in _children(pid):
        found |= {child, *_descendants(child)}
    return found


def _alive(pid: int) -> bool:
    entry = _process_table().get(pid)
    return entry is not None and not entry[1].startswith("Z")  # a zombie has ended


def test_serve_stopped_by_sigterm_stops_its_web_server_cluster_and_sandbox(
    tmp_path: Path,
) -> None:
    web, sandbox = free_port(), free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "UPS_SANDBOX_URL": f"http://127.0.0.1:{sandbox}",
    }
    assert manage("migrate", "--no-input", env=env, data_dir=tmp_path).returncode == 0
    assert manage("createcachetable", env=env, data_dir=tmp_path).returncode == 0
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPOPS_", "DJANGO_"))}
    clean.pop("REDIS_URL", None)
    clean |= {"SHIPOPS_DATA_DIR": str(tmp_path), **env}
    serve = subprocess.Popen(  # noqa: S603
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "serve", f"--addr=127.0.0.1:{web}"],
        env=clean,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert serve.stdout is not None
    parts: set[int] = set()
    try:
        assert "ShipOps is running" in serve.stdout.readline()
        assert len(_children(serve.pid)) == 3  # the web server, the cluster and the sandbox
        time.sleep(3)  # the cluster starts its own processes
        parts = _descendants(serve.pid)

        serve.terminate()  # SIGTERM to serve alone, as a service manager sends it

        assert serve.wait(timeout=30) == 0
        assert [pid for pid in parts if _alive(pid)] == []
    finally:  # nothing left running, whatever failed
        for pid in [serve.pid, *parts]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        serve.wait()
