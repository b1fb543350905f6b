"""An operator's day in a real Chromium: ship the demo CSV, see a batch fail, resume a crash.

Background work runs through ``cluster`` (see conftest.py): the admin queues the real django-q2
tasks, the test runs them when it chooses, so the page's own poller is seen moving the progress
bar from below 100% to 100% without a sleeping sandbox or a race. Screenshots of the key pages
go to test-artifacts/screenshots/ (and to docs/img/ with SHIPOPS_DOC_SCREENSHOTS=docs/img).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from playwright.sync_api import Locator, Page, expect

from datasources.models import DataSource
from jobs.models import Job, JobRow
from jobs.services.creation import session_hash
from jobs.states import JobStatus, RowStatus
from shipops.demo import CSV_SET, DEMO_REJECTED_LINE, HOME_ROWS
from shipops.management.commands.serve import DEMO_REJECTION
from tests.browser.conftest import Cluster, Screenshot
from tests.factories import JobFactory
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.admin.conftest import cancelled_with_a_row_out
from tests.jobs.conftest import previewed_job
from tests.jobs.test_engine_recovery import crash_then_lapse, crash_when
from ups.client import UpsClient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = CSV_SET.rows
# A page object in a PDF; "/Type /Pages" is the page tree, not a page.
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


SUMMARY_PARTS = {"job-status", "job-progress", "job-progress-text", "job-live"}


def by_testid(page: Page, testid: str) -> Locator:
    """Find by data-testid; the status and progress in the page's summary, not in its details."""
    if testid in SUMMARY_PARTS:
        return page.get_by_test_id("job-summary").get_by_test_id(testid)
    return page.get_by_test_id(testid)


def progress_of(page: Page) -> int:
    """Return the progress bar's value as the page shows it."""
    return int(by_testid(page, "job-progress").get_attribute("aria-valuenow") or "-1")


def progress_json(page: Page, job: Job) -> dict[str, Any]:
    """Fetch the job's progress.json with the page's session, as progress.js does."""
    response = page.request.get(f"/admin/jobs/job/{job.pk}/progress.json")
    assert response.ok, response.status
    payload: dict[str, Any] = response.json()
    return payload


def the_job(lock: threading.Lock) -> Job:
    with lock:
        return Job.objects.get()


def create_job(page: Page, source: DataSource, screenshot: Screenshot) -> None:
    """Open the source, check its mapping and validation, and create a job from it."""
    page.goto("/admin/datasources/datasource/")
    page.get_by_role("link", name=source.name).click()
    expect(by_testid(page, "summary-rows")).to_have_text(str(ROWS))
    expect(by_testid(page, "summary-invalid")).to_have_text("0")
    expect(by_testid(page, "mapping-row").first).to_be_visible()
    screenshot(page, "source-inspection", down_to=by_testid(page, "sample-table"))
    by_testid(page, "create-job").click()
    expect(by_testid(page, "create-mode-note")).to_contain_text("confirm")
    screenshot(page, "create-job")
    by_testid(page, "create-job-submit").click()
    expect(by_testid(page, "job-status")).to_have_text("Draft")
    expect(page.locator(".messagelist")).to_contain_text(f"{ROWS} rows, 0 with errors")


def preview(page: Page, cluster: Cluster) -> None:
    """Ask for a preview, run it as the cluster would; the page reloads itself when it ends."""
    by_testid(page, "action-preview").click()
    expect(by_testid(page, "job-status")).to_have_text("Previewing")
    assert cluster.run_all() == 1
    expect(by_testid(page, "job-status")).to_have_text("Previewed")  # progress.js reloaded


def test_ship_the_demo_csv_from_preview_to_labels(
    page: Page,
    demo_source: DataSource,
    ups_sandbox: SandboxController,
    cluster: Cluster,
    serialized: threading.Lock,
    settings: LazySettings,
    screenshot: Screenshot,
    tmp_path: Path,
) -> None:
    screenshot(page, "admin-home")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon is not None
    assert page.request.get(icon).ok  # the tab shows ShipOps's icon, not a 404
    create_job(page, demo_source, screenshot)
    preview(page, cluster)

    table = by_testid(page, "preview-table")
    expect(table).to_be_visible()
    expect(by_testid(page, "preview-row")).to_have_count(20)
    expect(by_testid(page, "preview-more")).to_have_text(f"... and {ROWS - 20} more")
    expect(by_testid(page, "preview-total-rows")).to_have_text(str(ROWS))
    expect(by_testid(page, "preview-total-cost")).to_have_text(re.compile(r"^\$[\d,]+\.\d\d$"))
    expect(by_testid(page, "preview-rows-with-warnings")).to_have_text(str(len(HOME_ROWS)))
    home = page.locator(f"[data-testid=preview-row][data-row='{min(HOME_ROWS)}']")
    home.get_by_test_id("warning-count").click()  # expand the row's warnings
    expect(home.get_by_test_id("preview-warnings")).to_contain_text("esidential")
    screenshot(page, "preview", down_to=by_testid(page, "preview-footer"))

    settings.SHIPOPS_EXECUTOR_SLICE_SECONDS = 0  # one row per slice: the bar moves slice by slice
    by_testid(page, "action-approve").click()
    expect(page.locator(".messagelist")).to_contain_text("approved")
    expect(by_testid(page, "job-live")).to_be_visible()
    assert progress_of(page) == 0
    half = ROWS // 2
    for _ in range(half):
        assert cluster.run_next() == "execute_job"
    job = the_job(serialized)
    assert job.shipped_count == half
    # progress.js polls progress.json and reloads the page once the status became "running".
    expect(by_testid(page, "job-status")).to_have_text("Running")
    expect(by_testid(page, "job-progress")).to_have_attribute("aria-valuenow", "50")
    expect(by_testid(page, "job-progress-text")).to_have_text(f"{half} of {ROWS} rows shipped")
    assert progress_json(page, job)["percent"] == 50
    # This session's batch runs: its mode cannot change, and the header shows it.
    expect(by_testid(page, "mode-switch-button")).to_be_disabled()
    expect(by_testid(page, "mode-switch-locked")).to_have_attribute(
        "title", re.compile(rf"^The mode cannot change while Job {job.pk} .* is running")
    )
    screenshot(page, "running")
    # Another admin page of the same session, left open while the batch runs.
    other = page.context.new_page()
    other.goto("/admin/")
    expect(by_testid(other, "mode-switch-button")).to_be_disabled()
    other.evaluate("window.openedWhileRunning = true")

    assert cluster.run_all() >= ROWS - half  # one slice per row, perhaps one to close the job
    expect(by_testid(page, "job-status")).to_have_text("Completed")  # reloaded by progress.js
    assert progress_of(page) == 100
    assert progress_json(page, job)["percent"] == 100
    expect(by_testid(page, "job-live")).to_have_count(0)
    expect(by_testid(page, "mode-switch-button")).to_be_enabled()
    # mode_switch.js gives the other page its button back too, without reloading it.
    expect(by_testid(other, "mode-switch-button")).to_be_enabled(timeout=15_000)
    expect(by_testid(other, "mode-switch-locked")).to_have_count(0)
    assert other.evaluate("window.openedWhileRunning") is True
    other.close()
    tracking = by_testid(page, "tracking-number")
    expect(tracking.first).to_have_text(re.compile(r"^1Z[0-9A-Z]{16}$"))
    assert tracking.count() == by_testid(page, "job-row").count()
    screenshot(page, "completed", down_to=by_testid(page, "downloads"))

    link = by_testid(page, "download-labels-pdf")
    expect(link).to_contain_text(f"{ROWS} pages")
    with page.expect_download() as download_info:
        link.click()
    pdf = tmp_path / "labels.pdf"
    download_info.value.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(PDF_PAGE.findall(data)) == ROWS
    with serialized:
        shipped = JobRow.objects.filter(job=job, status=RowStatus.SHIPPED)
        assert shipped.count() == ROWS
    assert len(ups_sandbox.ledger()) == ROWS


def test_a_refused_address_stops_the_batch_and_the_page_says_why(
    page: Page,
    demo_source: DataSource,
    ups_sandbox: SandboxController,
    cluster: Cluster,
    serialized: threading.Lock,
    screenshot: Screenshot,
) -> None:
    kind, fault = DEMO_REJECTION["kind"], {k: v for k, v in DEMO_REJECTION.items() if k != "kind"}
    ups_sandbox.set_fault(str(kind), **fault)
    page.goto(f"/admin/jobs/job/add/?data_source={demo_source.pk}")
    by_testid(page, "create-job-submit").click()
    preview(page, cluster)
    by_testid(page, "action-approve").click()
    expect(by_testid(page, "job-live")).to_be_visible()
    assert cluster.run_all() == 1  # the default slice ships until the refusal
    expect(by_testid(page, "job-status")).to_have_text("Failed")  # reloaded by progress.js

    stopped = CSV_SET.rejected_row
    assert stopped is not None
    expect(by_testid(page, "recovery-banner")).to_be_visible()
    expect(by_testid(page, "recovery-headline")).to_contain_text(f"at row {stopped} of {ROWS}")
    expect(by_testid(page, "recovery-last-error")).to_contain_text(str(stopped))
    expect(by_testid(page, "job-progress-text")).to_contain_text(
        f"{stopped - 1} of {ROWS} rows shipped, 1 failed"
    )
    screenshot(page, "failed", down_to=by_testid(page, "recovery-banner"))
    by_testid(page, "row-tab-failed").click()
    failed = by_testid(page, "job-row")
    expect(failed).to_have_count(1)
    expect(failed).to_have_attribute("data-row", str(stopped))
    screenshot(page, "failed-row", down_to=by_testid(page, "rows-table"))
    job = the_job(serialized)
    assert job.status == JobStatus.FAILED
    assert job.last_error_row is not None
    assert job.last_error_row.shipment["address_lines"] == [DEMO_REJECTED_LINE]


def crashed_after_ups_shipped_row_5(
    source: DataSource, staff: User, lock: threading.Lock, monkeypatch: pytest.MonkeyPatch
) -> Job:
    """A job whose worker died after UPS shipped row 5, before ShipOps stored it (unknown)."""
    with lock, monkeypatch.context() as patch:
        patch.setattr(UpsClient, "send_ship", crash_when(5, before=False))
        return crash_then_lapse(previewed_job(source, staff), staff)


def test_an_interrupted_job_is_resumed_from_its_banner(
    page: Page,
    demo_source: DataSource,
    ups_sandbox: SandboxController,
    cluster: Cluster,
    serialized: threading.Lock,
    staff: User,
    monkeypatch: pytest.MonkeyPatch,
    screenshot: Screenshot,
) -> None:
    job = crashed_after_ups_shipped_row_5(demo_source, staff, serialized, monkeypatch)
    assert job.status == JobStatus.INTERRUPTED

    page.goto(f"/admin/jobs/job/{job.pk}/change/")
    banner = by_testid(page, "recovery-banner")
    expect(banner).to_be_visible()
    expect(by_testid(page, "recovery-headline")).to_contain_text(
        f"{job} was interrupted at row 5 of {ROWS}."
    )
    expect(by_testid(page, "unknown-row")).to_have_count(1)
    # Row 5 may exist at UPS unrecorded: restart waits until it is settled, and says so.
    expect(banner.get_by_test_id("action-restart")).to_be_disabled()
    expect(by_testid(page, "action-restart-refusal")).to_contain_text(
        "Row 5 has an unknown outcome:"
    )
    assert 0 < progress_of(page) < 100
    screenshot(page, "interrupted", down_to=by_testid(page, "unknown-rows"))

    banner.get_by_test_id("action-resume").click()
    expect(page.locator(".messagelist")).to_contain_text("resumed")
    assert cluster.run_all() == 1
    expect(by_testid(page, "job-status")).to_have_text("Completed")  # reloaded by progress.js
    assert progress_of(page) == 100
    expect(by_testid(page, "recovery-banner")).to_have_count(0)
    with serialized:
        job.refresh_from_db()
        assert job.resume_count == 1
        assert job.shipped_count == ROWS
    # Row 5 was found at UPS by its reference, not shipped twice, and its label fetched.
    assert len(ups_sandbox.ledger()) == ROWS
    row_5 = page.locator("[data-testid=job-row][data-row='5']")
    expect(row_5.get_by_test_id("label-link")).to_have_count(1)
    expect(by_testid(page, "unlabelled")).to_have_count(0)
    screenshot(page, "resumed")


def test_a_label_ups_could_not_give_at_resume_is_fetched_from_the_page(
    page: Page,
    demo_source: DataSource,
    ups_sandbox: SandboxController,
    cluster: Cluster,
    serialized: threading.Lock,
    staff: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = crashed_after_ups_shipped_row_5(demo_source, staff, serialized, monkeypatch)
    ups_sandbox.set_fault("http_503", endpoint="label")  # Label Recovery is down at resume

    page.goto(f"/admin/jobs/job/{job.pk}/change/")
    by_testid(page, "recovery-banner").get_by_test_id("action-resume").click()
    expect(page.locator(".messagelist")).to_contain_text("resumed")
    assert cluster.run_all() == 1
    expect(by_testid(page, "job-status")).to_have_text("Completed")
    row_5 = page.locator("[data-testid=job-row][data-row='5']")
    expect(by_testid(page, "unlabelled")).to_contain_text("shipped, but ShipOps has no label")
    expect(row_5.get_by_test_id("label-link")).to_have_count(0)

    ups_sandbox.clear_faults()
    by_testid(page, "fetch-labels").click()

    expect(page.locator(".messagelist")).to_have_text("1 label fetched from UPS (row 5).")
    expect(by_testid(page, "unlabelled")).to_have_count(0)
    label = page.request.get(row_5.get_by_test_id("label-link").get_attribute("href") or "")
    assert label.ok
    assert label.body().startswith(b"GIF8")


def test_a_cancelled_job_page_shows_the_late_answer_for_the_row_that_was_out(
    page: Page, staff: User, serialized: threading.Lock
) -> None:
    with serialized:
        job, row = cancelled_with_a_row_out()
    page.goto(f"/admin/jobs/job/{job.pk}/change/")
    expect(by_testid(page, "job-status")).to_have_text("Cancelled")
    expect(by_testid(page, "job-live")).to_have_text("Following 1 row UPS may still ship")
    out = page.locator("[data-testid=job-row][data-row='3']")
    expect(out).to_have_attribute("data-status", "unknown")

    # The stopped worker's ship call comes back: the row is recorded as shipped.
    with serialized:
        JobRow.objects.filter(pk=row.pk).update(
            status=RowStatus.SHIPPED, tracking_number="1Z999AA10123456793"
        )
    expect(out).to_have_attribute("data-status", "shipped")  # reloaded by progress.js
    expect(out.get_by_test_id("tracking-number")).to_have_text("1Z999AA10123456793")
    expect(by_testid(page, "job-live")).to_have_count(0)
    expect(by_testid(page, "unknown-rows")).to_have_count(0)


def test_a_page_left_open_follows_a_mode_switch_made_in_another_tab(
    page: Page, demo_source: DataSource, staff: User, serialized: threading.Lock
) -> None:
    session_key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    with serialized:
        job = JobFactory.create(
            data_source=demo_source,
            status=JobStatus.RUNNING,
            created_by=staff,
            session_hash=session_hash(session_key),
        )
    stale = page.context.new_page()
    stale.clock.install()  # its mode_switch.js polls only when this test moves its clock
    stale.goto("/admin/")
    expect(by_testid(stale, "mode-switch-button")).to_be_disabled()
    expect(by_testid(stale, "mode-current")).to_have_text(re.compile("confirm", re.I))
    stale.evaluate("window.openedWhileRunning = true")

    # The batch ends, and another tab of the session switches to auto before the stale
    # page asks again: releasing its button would offer a switch to the mode in force.
    with serialized:
        Job.objects.filter(pk=job.pk).update(status=JobStatus.COMPLETED)
    page.goto("/admin/")
    by_testid(page, "mode-switch-button").click()
    expect(by_testid(page, "mode-current")).to_have_text(re.compile("auto", re.I))

    stale.clock.run_for(3_000)
    expect(by_testid(stale, "mode-current")).to_have_text(re.compile("auto", re.I))
    expect(by_testid(stale, "mode-switch-button")).to_be_enabled()
    assert stale.evaluate("window.openedWhileRunning") is None  # reloaded, not patched
    stale.close()
