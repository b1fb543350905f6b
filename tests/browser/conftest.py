"""Browser fixtures: a real Chromium driven by Playwright against pytest-django's live server.

Chromium is Debian's (``/usr/bin/chromium``, or ``SHIPOPS_CHROMIUM``): Playwright's own browser
download is not used. A missing browser fails the tests with the command that installs it.

One Chromium serves the whole ``tests/browser`` package (``scope="package"``), not the whole
session: Playwright's sync API keeps an asyncio loop running in the test thread for as long as
it is started, and Django refuses ORM calls from a thread with a running loop. So the package
fixture sets ``DJANGO_ALLOW_ASYNC_UNSAFE`` while Chromium is up and stops both when pytest
leaves the package, and the tests in other packages run with Django's check intact.

Background tasks: there is no django-q2 cluster here, and ``Conf.SYNC`` would run a whole
batch inside the approve request, so the page could never show a batch half done. Instead
``cluster`` stands in for django-q2: it records what the admin queues (``jobs.queue`` calls
``async_task`` after the commit) and the test runs those tasks, the real task functions, in its
own thread when it chooses: one execution slice at a time (``SHIPOPS_EXECUTOR_SLICE_SECONDS``
0 ships one row per slice) to see the progress bar move, or everything at once.

On SQLite the live server shares the test's in-memory connection (Django's thread sharing for
in-memory databases, with ``transaction=True``), and one connection must not serve two threads
at once: ``serialized`` makes the live server answer one request at a time under a lock that the
test also holds while it runs a task or reads the database. On PostgreSQL the lock only costs
a little parallelism.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

import pytest
from django.conf import LazySettings, settings
from django.contrib.auth.models import User
from playwright.sync_api import (
    Browser,
    FloatRect,
    Locator,
    Page,
    ViewportSize,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from datasources.models import DataSource, SourceKind
from shipops.demo import demo_csv
from tests.jobs.admin.conftest import make_operator

CHROMIUM = os.environ.get("SHIPOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
PASSWORD = "correct horse battery"  # UserFactory's
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
# Set to a folder (docs/img) to copy the screenshots there for docs/operators.md.
DOC_SCREENSHOTS = os.environ.get("SHIPOPS_DOC_SCREENSHOTS", "")
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Start Debian's Chromium once for the browser tests."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need it. "
            "Install it with `apt-get install chromium` (or set SHIPOPS_CHROMIUM).",
            pytrace=False,
        )
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def serialized(live_server: LiveServer) -> Iterator[threading.Lock]:
    """Make the live server answer one request at a time under a lock the test may take too."""
    lock = threading.Lock()
    server = live_server.thread.httpd
    app = server.get_app()
    assert app is not None

    def one_at_a_time(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with lock:
            response = app(environ, start_response)
            # Read the body and close it here: a streamed response may still use the database.
            try:
                return [b"".join(response)]
            finally:
                if hasattr(response, "close"):
                    response.close()

    server.set_app(one_at_a_time)
    yield lock
    with lock:  # a request still running (a poll) ends before the database is flushed
        server.set_app(app)


@dataclass
class Cluster:
    """Stands in for django-q2: holds the queued tasks until the test runs them."""

    lock: threading.Lock
    queued: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def async_task(self, func: str, *args: Any, **options: Any) -> str:
        self.queued.append((func, args))
        return f"task-{len(self.queued)}"

    def run_next(self) -> str:
        """Run the oldest queued task here, the server waiting meanwhile; return its name."""
        path, args = self.queued.pop(0)
        module, name = path.rsplit(".", 1)
        with self.lock:
            getattr(import_module(module), name)(*args)
        return name

    def run_all(self) -> int:
        """Run queued tasks (and the tasks they queue) until none is left; return how many."""
        count = 0
        while self.queued:
            self.run_next()
            count += 1
        return count


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch, serialized: threading.Lock) -> Cluster:
    fake = Cluster(lock=serialized)
    monkeypatch.setattr("jobs.queue.async_task", fake.async_task)
    return fake


@pytest.fixture
def demo_source(settings: LazySettings) -> DataSource:
    """The demo CSV source (60 orders) as ``manage.py demo_data`` adds it."""
    path = Path(settings.SHIPOPS_SOURCE_ROOT) / "demo" / "orders.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(demo_csv())
    return DataSource.objects.create(
        name="Demo orders (CSV)",
        kind=SourceKind.CSV,
        file_path="demo/orders.csv",
        key_column="order_id",
    )


@pytest.fixture
def staff(transactional_db: None) -> User:
    """A staff member who may operate and approve jobs."""
    return make_operator("dana", approver=True)


@pytest.fixture
def page(
    browser: Browser, live_server: LiveServer, serialized: threading.Lock, staff: User
) -> Iterator[Page]:
    """A page signed in as ``staff`` through the real login form."""
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    # Every request the pages make must succeed: a 404 (a missing icon, script or
    # stylesheet) or a 500 behind a poll fails the test that caused it.
    failed: list[str] = []
    tab.on(
        "response",
        lambda answer: (
            failed.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None
        ),
    )
    tab.goto("/admin/login/?next=/admin/")
    tab.fill("#id_username", staff.username)
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_url("**/admin/")
    yield tab
    tab.goto("about:blank")  # stops the progress poller
    context.close()
    assert failed == [], f"requests that failed: {failed}"


class Screenshot(Protocol):
    def __call__(self, page: Page, name: str, *, down_to: Locator | None = None) -> Path: ...


@pytest.fixture
def screenshot() -> Screenshot:
    """Return ``shot(page, name)``: save a PNG of the page (and a copy for the docs, if asked).

    The PNG shows the window, or the page from its top down to the element ``down_to``.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def shot(page: Page, name: str, *, down_to: Locator | None = None) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the admin's sticky sidebar follows the scroll
        box = down_to.bounding_box() if down_to is not None else None
        if box is None:
            page.screenshot(path=str(path))
        else:
            bottom = box["y"] + box["height"] + 16 + page.evaluate("window.scrollY")
            clip: FloatRect = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": bottom}
            page.screenshot(path=str(path), full_page=True, clip=clip)
        if DOC_SCREENSHOTS:
            target = Path(settings.BASE_DIR) / DOC_SCREENSHOTS
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / path.name)
        return path

    return shot
