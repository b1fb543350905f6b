"""The demo data a newcomer gets: three sources, a few warnings, one row UPS refuses."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from datasources.models import DataSource
from jobs.models import JobRow
from jobs.services.approval import job_approve
from jobs.services.creation import job_create
from jobs.services.execution import job_execute
from shipops.demo import CSV_SET, DEMO_REJECTED_LINE, HOME_ROWS
from shipops.management.commands.serve import DEMO_REJECTION
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import previewed_job

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def test_demo_sources_read_cleanly_and_loading_twice_changes_nothing(approver: User) -> None:
    assert load_demo().count("Added data source") == 3
    assert load_demo().count("Kept data source") == 3
    sizes = {}
    for source in DataSource.objects.all():
        job = job_create(source=source, actor=approver)
        assert job.invalid_count == 0, JobRow.objects.filter(job=job, is_valid=False).first()
        sizes[source.kind] = job.row_count
    assert sizes == {"csv": 60, "excel": 25, "database": 15}


def test_demo_preview_warns_about_homes_and_the_batch_stops_at_the_refused_address(
    ups_sandbox: SandboxController, approver: User
) -> None:
    load_demo()
    ups_sandbox.set_fault(**DEMO_REJECTION)
    job = previewed_job(DataSource.objects.get(kind="csv"), approver)
    warned = JobRow.objects.filter(job=job).exclude(warnings=[])
    assert sorted(warned.values_list("row_number", flat=True)) == sorted(HOME_ROWS)
    assert job.warning_count == len(HOME_ROWS)

    token = job_approve(job=job, acting_user=approver, in_background=False)
    job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
    job.refresh_from_db()
    assert job.status == "failed"
    stopped = job.last_error_row
    assert stopped is not None
    assert stopped.row_number == CSV_SET.rejected_row
    assert stopped.shipment["address_lines"] == [DEMO_REJECTED_LINE]
    assert job.shipped_count == CSV_SET.rejected_row - 1


@pytest.mark.parametrize("username", ["", "bad name/!", "x" * 200])
def test_a_demo_user_name_that_is_no_username_is_refused(username: str) -> None:
    with pytest.raises(CommandError, match="is not a username"):
        call_command("demo_user", "--username", username, stdout=io.StringIO())
    assert not User.objects.exists()


def test_demo_data_under_a_source_root_that_is_a_file_is_one_sentence(
    settings: LazySettings, tmp_path: Path
) -> None:
    a_file = tmp_path / "afile"
    a_file.write_text("not a folder")
    settings.SHIPOPS_SOURCE_ROOT = str(a_file)
    with pytest.raises(CommandError, match=r"It must be a folder ShipOps may write to\."):
        load_demo()
    assert not DataSource.objects.exists()
