"""Creating a job in the session's mode, and the mode switch on every admin page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks

from datasources.models import DataSource
from jobs.models import AuditEntry, Job
from jobs.services.creation import session_hash
from jobs.session_mode import SESSION_KEY
from jobs.states import JobMode, JobStatus
from tests.fixtures.sources import csv_bytes, order_rows
from tests.jobs.admin.conftest import job_url, job_with_rows, messages_of
from tests.jobs.admin.html import count_of, text_of

pytestmark = pytest.mark.django_db
CREATE = reverse("admin:jobs_job_add")
MODE = reverse("admin:jobs_job_mode")
MODE_STATE = reverse("admin:jobs_job_mode_state")


def create(client: Client, source: DataSource, **fields: object) -> Any:
    return client.post(CREATE, {"data_source": source.pk, "match": "equals", **fields})


def test_confirm_mode_creates_a_draft_with_the_session_recorded(
    orders_csv: Callable[..., DataSource], approver_client: Client, approver_user: User
) -> None:
    source = orders_csv(4)
    page = approver_client.get(CREATE + f"?data_source={source.pk}").text
    assert "in <strong>confirm</strong> mode" in page
    assert f'<option value="{source.pk}" selected>' in page

    response = create(approver_client, source)
    job = Job.objects.get()
    assert response["Location"] == job_url(job)
    assert (job.status, job.mode, job.row_count) == (JobStatus.DRAFT, JobMode.CONFIRM, 4)
    assert job.created_by == approver_user
    assert job.session_hash == session_hash(approver_client.session.session_key)
    shown = messages_of(approver_client.get(job_url(job)))
    assert f"{job} created: 4 rows, 0 with errors, 0 already shipped and left out." in shown


def test_auto_mode_approves_the_new_job_at_once(
    orders_csv: Callable[..., DataSource],
    approver_client: Client,
    operator_client: Client,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    approver_client.post(MODE, {"mode": "auto"})
    with django_capture_on_commit_callbacks(execute=False) as queued:
        create(approver_client, orders_csv(3))
    job = Job.objects.get()
    assert (job.status, job.mode) == (JobStatus.APPROVED, JobMode.AUTO)
    assert len(queued) == 1
    # The session now runs a batch: its mode is locked, and the header says why.
    header = approver_client.get(job_url(job)).text
    assert 'data-testid="mode-switch-button" disabled' in header
    assert f'title="The mode cannot change while {job} (started in this session) is approved' in (
        header
    )
    # The header's script asks mode.json until no batch holds the mode any more.
    state = approver_client.get(MODE_STATE).json()
    assert state["mode"] == "auto"
    assert state["locked"] is True
    assert state["message"].startswith(f"The mode cannot change while {job} ")
    assert 'data-state-url="' + MODE_STATE + '"' in header
    # Another person's session is not held by this one's batch, nor told about it.
    assert operator_client.get(MODE_STATE).json() == {
        "mode": "confirm",
        "locked": False,
        "message": "",
    }
    # A page shown before the lock still posts: the switch is refused all the same.
    response = approver_client.post(MODE, {"mode": "confirm", "next": job_url(job)})
    assert response["Location"] == job_url(job)
    shown = messages_of(approver_client.get(job_url(job)))
    assert any("The mode cannot change while" in text for text in shown)
    assert approver_client.session[SESSION_KEY] == "auto"


def test_auto_mode_leaves_a_job_with_invalid_rows_for_a_person(
    write_source: Callable[[str, bytes], object],
    approver_client: Client,
) -> None:
    rows = order_rows(3)
    rows[2][2] = ""  # row 2 has no address
    write_source("orders.csv", csv_bytes(rows))
    source = DataSource.objects.create(
        name="Bad", kind="csv", file_path="orders.csv", key_column="order_id"
    )
    approver_client.post(MODE, {"mode": "auto"})
    create(approver_client, source)
    job = Job.objects.get()
    assert job.status == JobStatus.DRAFT
    shown = messages_of(approver_client.get(job_url(job)))
    assert any("was not approved: 1 row with errors" in text for text in shown)


def test_auto_mode_without_the_approve_permission_says_so(
    orders_csv: Callable[..., DataSource], operator_client: Client
) -> None:
    operator_client.post(MODE, {"mode": "auto"})
    create(operator_client, orders_csv(2))
    job = Job.objects.get()
    assert job.status == JobStatus.DRAFT
    shown = messages_of(operator_client.get(job_url(job)))
    assert any("approve job" in text for text in shown)


def test_a_filter_takes_only_the_matching_rows(
    orders_csv: Callable[..., DataSource], approver_client: Client
) -> None:
    create(approver_client, orders_csv(9), first_row="3", last_row="5")
    assert Job.objects.get().row_count == 3


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"column": "city"}, "A column filter needs both a column and a value."),
        ({"first_row": "5", "last_row": "2"}, "The row range 5-2 is empty: 5 &gt; 2."),
        ({"first_row": "abc"}, "Enter a whole number."),
        ({"column": "city", "value": "Nowhere"}, "No rows to ship in"),
        ({"column": "region", "value": "South"}, "has no column &quot;region&quot; to filter on"),
    ],
)
def test_bad_input_is_a_form_error(
    orders_csv: Callable[..., DataSource],
    approver_client: Client,
    fields: dict[str, str],
    error: str,
) -> None:
    response = create(approver_client, orders_csv(3), **fields)
    assert response.status_code == 200
    assert error in response.text
    assert not Job.objects.exists()


def test_an_unreadable_source_is_a_form_error(approver_client: Client) -> None:
    source = DataSource.objects.create(name="Gone", kind="csv", file_path="gone.csv")
    response = create(approver_client, source)
    assert response.status_code == 200
    assert count_of(response.text, "form-errors") == 1
    assert "gone.csv" in response.text


def test_a_source_file_shipops_may_not_read_is_a_form_error(
    orders_csv: Callable[..., DataSource],
    approver_client: Client,
    unreadable: Callable[[str], None],
) -> None:
    source = orders_csv(3)
    unreadable(source.file_path)
    response = create(approver_client, source)
    assert response.status_code == 200
    assert "&quot;orders.csv&quot; cannot be read: Permission denied." in response.text
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "page", ["admin:index", "admin:jobs_job_changelist", "admin:datasources_datasource_add"]
)
def test_every_admin_page_shows_the_mode_switch(approver_client: Client, page: str) -> None:
    html = approver_client.get(reverse(page)).text
    assert count_of(html, "mode-switch") == 1
    assert text_of(html, "mode-current") == "Confirm"
    assert text_of(html, "mode-switch-button") == "Switch to auto"
    assert count_of(html, "mode-switch-locked") == 0  # nothing of this session runs


def test_switching_the_mode_is_audited_and_shown(
    approver_client: Client, approver_user: User
) -> None:
    job = job_with_rows(1)
    response = approver_client.post(MODE, {"mode": "auto", "next": job_url(job)})
    assert response["Location"] == job_url(job)
    page = approver_client.get(job_url(job))
    assert text_of(page.text, "mode-current") == "Auto"
    assert text_of(page.text, "mode-switch-button") == "Switch to confirm"
    assert any(text.startswith("Auto mode:") for text in messages_of(page))
    entry = AuditEntry.objects.get(action="mode_switched")
    assert (entry.actor, entry.data) == (approver_user, {"mode": "auto"})


def test_mode_switch_refuses_bad_modes_and_foreign_next_urls(approver_client: Client) -> None:
    response = approver_client.post(MODE, {"mode": "turbo", "next": "https://evil.example/"})
    assert response["Location"] == reverse("admin:index")
    shown = messages_of(approver_client.get(reverse("admin:index")))
    assert "The mode must be confirm or auto, not 'turbo'." in shown
    assert SESSION_KEY not in approver_client.session


def test_mode_json_says_a_free_session_may_switch_and_is_for_staff_only(
    approver_client: Client, client: Client
) -> None:
    state = approver_client.get(MODE_STATE).json()
    assert state == {"mode": "confirm", "locked": False, "message": ""}
    assert approver_client.post(MODE_STATE).status_code == 405
    response = client.get(MODE_STATE)  # signed out: the sign-in page, never the state
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_source_column_without_a_name_is_said_on_creation_and_kept_in_the_history(
    orders_csv: Callable[..., DataSource], approver_client: Client
) -> None:
    rows = [[*row[:4], "", *row[4:]] for row in order_rows(3)]
    rows[1][4] = "ring twice"  # a note under a column nobody named
    source = orders_csv(3, rows=rows)
    create(approver_client, source)
    job = Job.objects.get()
    notice = (
        'Column 5 of "orders.csv" holds values (row 1) but has no name in the header row, so '
        "ShipOps does not read it; name it there if it holds shipping data."
    )
    assert notice in messages_of(approver_client.get(job_url(job)))
    created = AuditEntry.objects.get(job=job, action="job_created")
    assert created.message.endswith(f"left out. {notice}")
    assert created.data["notices"] == [notice]
