"""``python manage.py ups_sandbox``: run the local UPS sandbox until Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ups.sandbox.faults import faults_from_environ
from ups.sandbox.server import SandboxServer
from ups.sandbox.state import DEFAULT_TOKEN_TTL

DEFAULT_PORT = 8765


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def default_port() -> int:
    """Return the port of ``settings.UPS_SANDBOX_URL`` (8765 unless configured)."""
    return urlsplit(settings.UPS_SANDBOX_URL).port or DEFAULT_PORT


class Command(BaseCommand):
    help = (
        "Run the local UPS sandbox: UPS's paths and JSON shapes, checked against the "
        "official specs, with faults on demand (docs/ups.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument(
            "--port", type=int, default=None, help="Port (default: the port of UPS_SANDBOX_URL)."
        )
        parser.add_argument(
            "--token-ttl",
            type=int,
            default=None,
            help="Token lifetime in seconds (default: UPS_SANDBOX_TOKEN_TTL or 14399).",
        )
        parser.add_argument(
            "--any-credentials",
            action="store_true",
            help="Accept any client id and secret instead of UPS_CLIENT_ID/UPS_CLIENT_SECRET.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"] if options["port"] is not None else default_port()
        try:
            faults = faults_from_environ()
            ttl = options["token_ttl"] or int(
                os.environ.get("UPS_SANDBOX_TOKEN_TTL") or DEFAULT_TOKEN_TTL
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        credentials = None
        if not options["any_credentials"] and settings.UPS_CLIENT_ID and settings.UPS_CLIENT_SECRET:
            credentials = (settings.UPS_CLIENT_ID, settings.UPS_CLIENT_SECRET)
        try:
            server = SandboxServer(
                options["host"], port, credentials=credentials, token_ttl=ttl, faults=faults
            )
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{port}: {exc.strerror}."
            ) from None
        self.stdout.write(
            f"UPS sandbox listening on {server.url} (control API: {server.url}/__sandbox/)."
        )
        for fault in faults:
            self.stdout.write(f"  fault from the environment: {fault.kind} on {fault.endpoint}")
        self.stdout.write("Press Ctrl-C to stop.")
        self.stdout.flush()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly under a process manager
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.stop()
