"""A task queue that refuses a job's task: the job stops at once, and the operator is told.

These tests commit (``transaction=True``): a task is queued only once the
action's transaction commits, and the broker's failure comes after it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_q.conf import Conf

from datasources.models import DataSource
from jobs.models import AuditEntry, Job, JobRow
from jobs.queue import queue_unavailable
from jobs.services.approval import job_approve
from jobs.services.execution import job_execute
from jobs.states import JobStatus, RowStatus
from shipops.errors import DomainError
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.api.contract import ApiClient
from tests.jobs.conftest import previewed_job, ship_all

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED = (
    "The task queue could not take the job's {task} task (ConnectionError; the log has "
    "the details), so it did not start."
)


@pytest.fixture
def api(client: Client, approver: User) -> ApiClient:
    client.force_login(approver)
    return ApiClient(client)


def actions(job: Job) -> list[str]:
    return list(AuditEntry.objects.filter(job=job).order_by("pk").values_list("action", flat=True))


def test_an_approval_the_queue_refuses_interrupts_the_job_and_resume_then_queues_it(
    api: ApiClient,
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    broker_down: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = previewed_job(orders_csv(3), approver)
    response = api.post(f"/api/jobs/{job.pk}/approve")

    assert response.status_code == 503
    reason = REFUSED.format(task="shipping")
    assert response.json() == {
        "code": "queue_unavailable",
        "message": f"Job {job.pk}: {reason} It is interrupted: resume it once the queue works.",
        "details": {"job": job.pk, "error": "ConnectionError", "stopped": True},
    }
    job.refresh_from_db()
    assert (job.status, job.last_error_code, job.last_error_message) == (
        JobStatus.INTERRUPTED,
        "queue_unavailable",
        reason,
    )
    assert (job.lease_owner, job.lease_expires_at, job.shipped_count) == ("", None, 0)
    assert actions(job)[-2:] == ["job_approved", "job_interrupted"]

    monkeypatch.setattr(Conf, "ORM", "default")  # the queue is back
    assert api.post(f"/api/jobs/{job.pk}/resume").status_code == 202
    job.refresh_from_db()
    assert (job.status, job.last_error_code) == (JobStatus.RUNNING, "")


def test_a_preview_the_queue_refuses_goes_back_to_draft(
    api: ApiClient, orders_csv: Callable[..., DataSource], approver: User, broker_down: None
) -> None:
    job = api.post("/api/jobs/", {"source": orders_csv(2).pk}).json()
    response = api.post(f"/api/jobs/{job['id']}/preview")

    assert response.status_code == 503
    assert response.json()["message"] == (
        f"Job {job['id']}: {REFUSED.format(task='preview')} It is back to draft: preview it "
        "again once the queue works."
    )
    stopped = Job.objects.get(pk=job["id"])
    assert (stopped.status, stopped.last_error_code) == (JobStatus.DRAFT, "queue_unavailable")
    assert actions(stopped)[-2:] == ["preview_started", "preview_interrupted"]


def test_a_restart_the_queue_refuses_leaves_its_new_job_interrupted(
    api: ApiClient,
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    broker_down: None,
) -> None:
    ups_sandbox.set_fault("reject_address", endpoint="ship", address_lines=["102 Main St"])
    job = ship_all(previewed_job(orders_csv(3), approver), approver)
    ups_sandbox.clear_faults()
    assert (job.status, job.shipped_count) == (JobStatus.FAILED, 1)

    response = api.post(f"/api/jobs/{job.pk}/restart", {"confirm_duplicates": True})

    assert response.status_code == 503
    assert response.json()["code"] == "queue_unavailable"
    new_job = Job.objects.exclude(pk=job.pk).get()
    assert response.json()["details"]["job"] == new_job.pk
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    assert (new_job.status, new_job.row_count) == (JobStatus.INTERRUPTED, 3)
    assert JobRow.objects.filter(job=new_job, status=RowStatus.PENDING).count() == 3


def test_a_worker_whose_next_slice_the_queue_refuses_interrupts_the_job_after_its_row(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    broker_down: None,
) -> None:
    job = previewed_job(orders_csv(3), approver)
    token = job_approve(job=job, acting_user=approver, in_background=False)
    with pytest.raises(
        DomainError, match=r"^Job \d+: The task queue could not take"
    ):  # the task fails
        job_execute(job_id=job.pk, token=token, slice_seconds=0)  # ships row 1, hands over

    job.refresh_from_db()
    assert (job.status, job.shipped_count, job.last_error_code) == (
        JobStatus.INTERRUPTED,
        1,
        "queue_unavailable",
    )
    shipped = JobRow.objects.get(job=job, row_number=1)
    assert (shipped.status, shipped.tracking_number[:2]) == (RowStatus.SHIPPED, "1Z")
    assert JobRow.objects.filter(job=job, status=RowStatus.PENDING).count() == 2


def test_a_task_that_claimed_the_job_meanwhile_is_left_alone(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    # A broker that failed after storing the task: the task already holds the job.
    job = previewed_job(orders_csv(1), approver)
    token = job_approve(job=job, acting_user=approver, in_background=False)
    Job.objects.filter(pk=job.pk).update(fencing_token=token + 1, status=JobStatus.RUNNING)

    refused = queue_unavailable(job.pk, token, approver, ConnectionError("refused"), preview=False)

    assert refused is None  # the approval worked: nothing to tell the operator
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING


def test_a_job_that_cannot_be_marked_shows_as_interrupted_once_its_hand_over_lapses(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    job = previewed_job(orders_csv(1), approver)
    token = job_approve(job=job, acting_user=approver, in_background=False)
    Job.objects.filter(pk=job.pk).update(fencing_token=token + 1)  # a colleague's new hand-over

    refused = queue_unavailable(job.pk, token, approver, ConnectionError("refused"), preview=False)

    assert refused is not None
    assert refused.message.endswith(
        "It shows as interrupted when its hand-over lapses (SHIPOPS_HANDOVER_SECONDS); act on "
        "it then."
    )
    assert refused.details["stopped"] is False
    assert Job.objects.get(pk=job.pk).status == JobStatus.APPROVED
