"""Run the web server, a django-q2 cluster and (in sandbox mode) the UPS sandbox together."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shipops.demo import DEMO_REJECTED_LINE

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
DEMO_REJECTION: dict[str, Any] = {
    "kind": "reject_address",
    "endpoint": "ship",
    "address_lines": [DEMO_REJECTED_LINE],
}
STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Start the web server, a task cluster and the UPS sandbox; Ctrl-C stops them all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port for the web server")

    def handle(self, *args: Any, addr: str, **options: Any) -> None:
        commands = {
            "web": ["runserver", addr, "--noreload"],
            "cluster": ["qcluster"],
        }
        if settings.UPS_ENV == "sandbox":
            sandbox = urlsplit(settings.UPS_SANDBOX_URL)
            commands["ups-sandbox"] = [
                "ups_sandbox",
                "--host",
                sandbox.hostname or "127.0.0.1",
                "--port",
                str(sandbox.port or 8765),
            ]
        # The demo's one address UPS refuses (shipops.demo), unless faults are configured.
        env = {**os.environ}
        env.setdefault("UPS_SANDBOX_FAULTS", json.dumps([DEMO_REJECTION]))
        # A service manager or `kill` stops it as Ctrl-C does: its parts are stopped too,
        # never left running without it (set before they start, so none is missed).
        signal.signal(signal.SIGTERM, _interrupt)
        processes: dict[str, subprocess.Popen[bytes]] = {}
        stopped: list[str] = []
        try:
            for name, argv in commands.items():
                processes[name] = subprocess.Popen([sys.executable, MANAGE, *argv], env=env)  # noqa: S603
            self.stdout.write(
                self.style.SUCCESS(f"ShipOps is running at http://{addr}/admin/ ")
                + f"({', '.join(processes)}). Press Ctrl-C to stop."
            )
            while all(process.poll() is None for process in processes.values()):
                time.sleep(0.5)
            stopped = [name for name, process in processes.items() if process.poll() is not None]
        except KeyboardInterrupt:
            self.stdout.write("Stopping...")
            self._stop(processes)
            return
        self._stop(processes)
        # A part that died on its own is a failure: a script or supervisor sees status 1.
        raise CommandError(f"{', '.join(stopped)} stopped; the rest was stopped too.")

    def _stop(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        # A second Ctrl-C or SIGTERM must not cut the stopping short and orphan a part.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
