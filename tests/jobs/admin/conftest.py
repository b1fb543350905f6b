"""Admin fixtures: people with and without the approve permission, and ways to post actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.db.models import Q
from django.test import Client
from django.urls import reverse

from jobs.models import Job, JobRow
from jobs.services.in_flight import SHIP_STARTED
from jobs.states import JobStatus, RowStatus
from tests.factories import AuditEntryFactory, JobFactory, JobRowFactory, UserFactory
from tests.fixtures.sources import csv_bytes, order_rows
from tests.jobs.test_engine_recovery import failing_write_back  # noqa: F401 - shared fixture

# What an operator may do: see everything, create and operate jobs; approving is separate.
OPERATOR_PERMISSIONS = [
    ("jobs", "view_job"),
    ("jobs", "add_job"),
    ("jobs", "change_job"),
    ("jobs", "view_jobrow"),
    ("jobs", "view_auditentry"),
    ("datasources", "view_datasource"),
    ("datasources", "add_datasource"),
    ("datasources", "change_datasource"),
]


def make_operator(username: str, *, approver: bool = False) -> User:
    """Return a staff user with the operator permissions (and approve_job when asked)."""
    user = UserFactory.create(username=username, approver=approver)
    wanted = Q()
    for app, codename in OPERATOR_PERMISSIONS:
        wanted |= Q(content_type__app_label=app, codename=codename)
    user.user_permissions.add(*Permission.objects.filter(wanted))
    return User.objects.get(pk=user.pk)  # a fresh instance: no cached permissions


@pytest.fixture
def operator(db: None) -> User:
    return make_operator("olga")


@pytest.fixture
def approver_user(db: None) -> User:
    return make_operator("dana", approver=True)


@pytest.fixture
def operator_client(operator: User) -> Client:
    """A browser signed in as the operator (a client of its own, not pytest-django's)."""
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def approver_client(approver_user: User) -> Client:
    """A browser signed in as the approver."""
    client = Client()
    client.force_login(approver_user)
    return client


def job_url(job: Job) -> str:
    return reverse("admin:jobs_job_change", args=[job.pk])


def page_action(client: Client, job: Job, action: str, **data: Any) -> Any:
    """Post a Django 6.1 change-form action from the job's page, as its button does."""
    payload = {"CHANGE_FORM-action": action, "_selected_action": str(job.pk), **data}
    return client.post(job_url(job), payload)


def list_action(client: Client, action: str, jobs: list[Job], **data: Any) -> Any:
    """Post a changelist action for the selected jobs."""
    payload = {
        "action": action,
        "_selected_action": [str(job.pk) for job in jobs],
        "index": "0",
        **data,
    }
    return client.post(reverse("admin:jobs_job_changelist"), payload)


def messages_of(response: Any) -> list[str]:
    """Return the texts of the messages a response (followed or rendered) carries."""
    return [str(message) for message in response.context["messages"]] if response.context else []


def job_with_rows(count: int, **fields: Any) -> Job:
    """Return a job with ``count`` rows stored in one bulk insert, and its source file."""
    job = JobFactory.create(row_count=count, **fields)
    source_file = Path(settings.SHIPOPS_SOURCE_ROOT) / job.data_source.file_path
    if job.data_source.file_path and not source_file.exists():
        source_file.write_bytes(csv_bytes(order_rows(count)))  # approving checks it is writable
    JobRow.objects.bulk_create(
        JobRowFactory.build(
            job=job,
            row_number=number,
            source_key=str(number),
            reference=f"SO{job.pk}-{number}",
            estimated_cost_cents=1000 + number,
            warnings=[{"code": "residential", "message": "Residential address."}]
            if number % 4 == 0
            else [],
        )
        for number in range(1, count + 1)
    )
    return job


def cancelled_with_a_row_out(status: str = RowStatus.UNKNOWN) -> tuple[Job, JobRow]:
    """A job cancelled while row 3's ship request was out: row 3 is unknown (or ``status``)."""
    job = job_with_rows(5, status=JobStatus.CANCELLED, shipped_count=2)
    JobRow.objects.filter(job=job, row_number__lte=2).update(
        status=RowStatus.SHIPPED, tracking_number="1Z999AA10123456784", actual_cost_cents=1500
    )
    JobRow.objects.filter(job=job, row_number__gt=3).update(status=RowStatus.CANCELLED)
    row = JobRow.objects.get(job=job, row_number=3)
    JobRow.objects.filter(pk=row.pk).update(
        status=status, tracking_number="1Z999AA10123456793" if status == RowStatus.SHIPPED else ""
    )
    AuditEntryFactory.create(job=job, row=row, action=SHIP_STARTED, message="Shipping row 3.")
    return job, row
