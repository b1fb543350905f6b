"""``manage.py ups_sandbox`` serves the sandbox, with faults from the environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import LazySettings

from tests.ups.test_errors import free_port
from ups.management.commands.ups_sandbox import default_port

MANAGE_PY = Path(__file__).resolve().parents[2] / "manage.py"


def wait_until_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if requests.get(f"{url}/__sandbox/health", timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("the sandbox did not start")


def test_the_command_serves_until_interrupted() -> None:
    port = free_port()
    environ = {
        **os.environ,
        "UPS_SANDBOX_LATENCY_MS": "5",
        "UPS_SANDBOX_REJECT_POSTAL_CODES": "90210",
    }
    process = subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, str(MANAGE_PY), "ups_sandbox", "--port", str(port)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, process)
        faults = requests.get(f"{url}/__sandbox/faults", timeout=5).json()["faults"]
        reset = requests.post(f"{url}/__sandbox/reset", timeout=5).json()
        after_reset = requests.get(f"{url}/__sandbox/faults", timeout=5).json()["faults"]
    finally:
        process.send_signal(signal.SIGINT)
        output, errors = process.communicate(timeout=20)

    assert [fault["kind"] for fault in faults] == ["latency", "reject_address"]
    assert reset == {"reset": True}
    assert len(after_reset) == 2  # faults from the environment survive a reset
    assert process.returncode == 0, errors
    assert f"UPS sandbox listening on {url}" in output
    assert "Stopped." in output


def test_the_default_port_comes_from_the_sandbox_url(settings: LazySettings) -> None:
    settings.UPS_SANDBOX_URL = "http://127.0.0.1:9911"

    assert default_port() == 9911
