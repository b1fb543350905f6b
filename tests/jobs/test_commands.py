"""The management commands, end to end on real files, the database and the sandbox."""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command

from datasources.models import DataSource
from jobs.management.commands.recover_jobs import Command as RecoverJobs
from jobs.models import AuditEntry, Job, JobRow
from jobs.permissions import REFUSALS
from jobs.services import execution
from tests.factories import UserFactory
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.admin.conftest import job_with_rows
from tests.jobs.conftest import as_if_ups_can_no_longer_answer, read_csv
from tests.jobs.test_engine_recovery import crashed_job

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_create_preview_approve_in_the_foreground(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = orders_csv(25)
    created = run("create_job", source.name, "--user", "dana", "--last-row", "23")
    job = Job.objects.get()
    assert created.startswith(f"Created Job {job.pk} from {source.name}: 23 rows, 0 with errors")

    monkeypatch.setenv("COLUMNS", "72")
    table = run("preview_job", str(job.pk), "--user", "dana")
    lines = table.splitlines()
    assert lines[0].split() == [
        "#",
        "Recipient",
        "City,",
        "State",
        "Service",
        "Est.",
        "Cost",
        "Warnings",
    ]
    assert "... and 3 more" in table
    assert "Total rows: 23" in table
    assert all(len(line) <= 72 for line in lines[:23])

    shipped = run("approve_job", str(job.pk), "--user", "dana", "--foreground")
    assert f"Job {job.pk} is completed: 23 shipped, 0 failed" in shipped
    assert sum(1 for line in read_csv(source, source_root) if line["tracking_number"]) == 23


def test_run_job_ships_an_approved_job_here(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    source = orders_csv(3)
    run("create_job", source.name, "--mode", "auto", "--user", "dana")
    job = Job.objects.get()
    run("approve_job", str(job.pk), "--user", "dana")  # queued for a cluster...
    out = run("run_job", str(job.pk), "--user", "dana")  # ...but shipped here instead
    assert f"Job {job.pk} is completed: 3 shipped" in out
    assert len(ups_sandbox.ledger()) == 3


def test_ctrl_c_during_run_job_says_what_shipped_and_how_to_go_on(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = orders_csv(4)
    run("create_job", source.name, "--mode", "auto", "--user", "dana")
    job = Job.objects.get()
    run("approve_job", str(job.pk), "--user", "dana")

    def interrupted_after_two_rows(row: JobRow) -> None:
        if row.row_number == 2:
            raise KeyboardInterrupt

    real_execute = execution.job_execute
    monkeypatch.setattr(
        "jobs.management.base.job_execute",
        lambda **kwargs: real_execute(**{**kwargs, "on_row": interrupted_after_two_rows}),
    )
    with pytest.raises(CommandError) as stopped:
        run("run_job", str(job.pk), "--user", "dana")

    # Ctrl-C came while row 3's call was out: its answer was waited for and recorded.
    assert len(ups_sandbox.ledger()) == 3
    assert str(stopped.value) == (
        f"Stopped by Ctrl-C with 3 rows of Job {job.pk} shipped. It shows as running until its "
        f"lease lapses (60 s), then as interrupted: resume it with "
        f"`manage.py recover_jobs --resume {job.pk}`."
    )


def test_ship_takes_a_file_all_the_way_to_labels(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    source_root: Path,
) -> None:
    source = orders_csv(4, name="today.csv")
    out = run("ship", "today.csv", "--auto", "--user", "dana")
    job = Job.objects.get()
    assert f"Job {job.pk} is completed: 4 shipped" in out
    assert f"labels/job-{job.pk}" in out
    assert all(line["tracking_number"].startswith("1Z") for line in read_csv(source, source_root))


def test_recover_jobs_lists_resumes_and_settles(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    source = orders_csv(4)
    ups_sandbox.set_fault("reject_address", endpoint="ship", address_lines=["103 Main St"])
    said = io.StringIO()
    with pytest.raises(SystemExit) as ended:  # a batch that did not complete: status 1
        call_command("ship", source.file_path, "--auto", "--user", "dana", stdout=said)
    assert ended.value.code == 1
    job = Job.objects.get()
    assert job.status == "failed"
    assert f"Job {job.pk} is failed: 2 shipped, 1 failed, 1 not shipped yet, actual cost" in (
        said.getvalue()
    )

    listing = run("recover_jobs", "--no-input")
    assert f"Job {job.pk} stopped at row 3 of 4. Last: row 2 (Customer 2, tracking 1Z" in listing
    assert "Resume will retry row 3." in listing

    ups_sandbox.clear_faults()
    out = run("recover_jobs", "--resume", str(job.pk), "--foreground", "--user", "dana")
    assert f"Job {job.pk} is completed: 4 shipped" in out
    assert len(ups_sandbox.ledger()) == 4


def test_commands_explain_what_is_wrong(
    orders_csv: Callable[..., DataSource], approver: User
) -> None:
    with pytest.raises(CommandError, match=r"There is no job 999\."):
        run("preview_job", "999", "--show-only")
    with pytest.raises(CommandError, match="There is no data source 'nope'"):
        run("create_job", "nope")
    source = orders_csv(2)
    run("create_job", source.name)
    job = Job.objects.get()
    User.objects.create_user("clerk", is_staff=True)
    with pytest.raises(CommandError, match=f"Job {job.pk} has not been previewed"):
        run("approve_job", str(job.pk), "--user", "dana")
    with pytest.raises(CommandError, match="You may not approve jobs"):
        run("approve_job", str(job.pk), "--user", "clerk")
    with pytest.raises(CommandError, match="--user"):
        run("ship", source.file_path)
    with pytest.raises(CommandError, match="--decide-row"):
        run("recover_jobs", "--decide-row", "1")
    with pytest.raises(CommandError, match="--tracking is blank"):
        run("recover_jobs", "--decide-row", "1", "--tracking", "  ")
    with pytest.raises(CommandError, match="--tracking goes with --decide-row ROW_ID"):
        run("recover_jobs", "--resume", str(job.pk), "--tracking", "1Z999AA10123456784")
    with pytest.raises(CommandError, match="--resume: not allowed with argument --cancel"):
        run("recover_jobs", "--cancel", str(job.pk), "--resume", str(job.pk))
    assert Job.objects.get(pk=job.pk).status == "draft"  # neither cancelled nor resumed
    assert JobRow.objects.filter(job=job, status="pending").count() == 2


class TypedAnswers(io.StringIO):
    """Standard input as a terminal where the operator types ``answers``."""

    def isatty(self) -> bool:
        return True


def test_recover_jobs_says_why_a_restart_is_not_available(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = crashed_job(orders_csv(6), approver, monkeypatch, at_call=4, before=False)
    refusal = "  Restart is not available: Row 4 has an unknown outcome: UPS may"

    assert refusal in run("recover_jobs", "--no-input")

    monkeypatch.setattr("sys.stdin", TypedAnswers("s\n"))
    chosen = run("recover_jobs")
    assert refusal in chosen
    assert f"  Kept {job} as it is." in chosen
    job.refresh_from_db()
    assert job.status == "interrupted"
    assert Job.objects.count() == 1


@pytest.mark.parametrize(
    ("stop", "said"),
    [(EOFError, "No answer (end of input)"), (KeyboardInterrupt, "Stopped by Ctrl-C.")],
)
def test_a_question_left_unanswered_ends_with_a_sentence_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, stop: type[BaseException], said: str
) -> None:
    job = job_with_rows(2, status="failed")

    def no_answer(prompt: str = "") -> str:
        raise stop

    monkeypatch.setattr("builtins.input", no_answer)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    with pytest.raises(CommandError, match=re.escape(said)):
        run("recover_jobs")
    assert Job.objects.get(pk=job.pk).status == "failed"


def test_a_source_id_that_is_another_sources_name_is_refused_not_guessed(
    orders_csv: Callable[..., DataSource],
) -> None:
    first = orders_csv(2, name="a.csv")
    numbered = orders_csv(2, name="b.csv")
    DataSource.objects.filter(pk=numbered.pk).update(name=str(first.pk))
    with pytest.raises(CommandError, match=f"'{first.pk}' names two data sources"):
        run("create_job", str(first.pk))
    assert not Job.objects.exists()


def test_recover_jobs_lists_the_row_ids_decide_row_takes(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_with_rows(4, status="completed")  # so that row ids and row numbers differ
    job = crashed_job(orders_csv(6), approver, monkeypatch, at_call=3, before=True)
    row = JobRow.objects.get(job=job, row_number=3)
    assert row.status == "unknown"
    assert row.pk != row.row_number  # the id, not the row number, is what --decide-row takes
    line = f"    row 3, key {row.source_key}, reference {row.reference}: --decide-row {row.pk}\n"
    command = f"manage.py recover_jobs --decide-row {row.pk} --not-shipped --user=dana"

    listing = run("recover_jobs", "--no-input", "--user", "dana")
    assert line in listing
    assert f"    manage.py recover_jobs --decide-row {row.pk} --tracking NUMBER --user=dana\n" in (
        listing
    )
    assert f"    {command}\n" in listing

    said = io.StringIO()  # resume finds no shipment at UPS: it names the ids as well
    with pytest.raises(CommandError, match="UPS has no shipment for row"):
        call_command("recover_jobs", "--resume", str(job.pk), "--user", "dana", stdout=said)
    assert line in said.getvalue()

    as_if_ups_can_no_longer_answer(row)
    decided = run(*shlex.split(command)[1:])  # the printed command, as pasted
    assert decided.startswith("Row 3 marked not shipped")
    row.refresh_from_db()
    assert row.status == "pending"
    assert "--decide-row" not in run("recover_jobs", "--no-input")

    parser = RecoverJobs().create_parser("manage.py", "recover_jobs")
    assert "recover_jobs without an action lists such rows with their ROW_ID" in " ".join(
        parser.format_help().split()
    )


def test_recover_jobs_lists_a_cancelled_jobs_rows_of_unknown_outcome(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = crashed_job(orders_csv(4), approver, monkeypatch, at_call=2, before=True)
    row = JobRow.objects.get(job=job, row_number=2)
    line = f"    row 2, key {row.source_key}, reference {row.reference}: --decide-row {row.pk}\n"

    assert line in run("recover_jobs", "--cancel", str(job.pk))
    listing = run("recover_jobs", "--no-input")
    assert listing.startswith(f"{job} is cancelled; some rows' outcome is unknown.\n")
    assert line in listing
    # Run without --user, it says whose name goes in; a decision without one is refused.
    assert "USERNAME: yours, a person with the approve permission" in listing
    assert f"    manage.py recover_jobs --decide-row {row.pk} --not-shipped --user=USERNAME\n" in (
        listing
    )
    with pytest.raises(CommandError, match="Say who is acting with --user USERNAME"):
        run("recover_jobs", "--decide-row", str(row.pk), "--tracking", "1Z999AA10123456784")
    assert JobRow.objects.get(pk=row.pk).status == "unknown"


def test_recover_jobs_fetches_the_labels_of_shipped_rows_without_one(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    source = orders_csv(2)
    run("ship", source.file_path, "--auto", "--user", "dana")
    job = Job.objects.get()
    first, second = JobRow.objects.filter(job=job).order_by("row_number")
    for row in (first, second):  # as if UPS's answers had been lost: no label kept
        row.label.delete(save=True)
    JobRow.objects.filter(pk=second.pk).update(tracking_number="1Z999AA10123456784")

    said = io.StringIO()
    with pytest.raises(SystemExit) as ended:  # a label is still missing: status 1
        call_command("recover_jobs", "--fetch-labels", str(job.pk), "--user", "dana", stdout=said)

    assert ended.value.code == 1
    assert said.getvalue() == (
        "1 label fetched from UPS (row 1).\n"
        "Row 2 (1Z999AA10123456784): no label: UPS does not know the tracking number "
        "1Z999AA10123456784.\n"
    )
    assert JobRow.objects.get(pk=first.pk).label.read().startswith(b"GIF8")
    JobRow.objects.filter(pk=second.pk).update(label="labels/found-elsewhere.gif")
    with pytest.raises(CommandError, match=f"Every shipped row of {job} has its label."):
        run("recover_jobs", "--fetch-labels", str(job.pk))


def staff(username: str, *codenames: str) -> User:
    """Return a staff user with only these job permissions ("view_job", "change_job"...)."""
    user = UserFactory.create(username=username)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


# Each action a command takes for --user, the job it acts on, and what it asks of the user:
# the permission the admin and the API ask for the same action (jobs/permissions.py).
ACTIONS = [
    (["create_job", "{source}"], "draft", "jobs.add_job"),
    (["create_job", "{source}", "--mode", "auto"], "draft", "jobs.approve_job"),
    (["preview_job", "{job}"], "draft", "jobs.change_job"),
    (["approve_job", "{job}"], "previewed", "jobs.approve_job"),
    (["run_job", "{job}"], "approved", "jobs.change_job"),
    (["recover_jobs", "--resume", "{job}"], "interrupted", "jobs.change_job"),
    (["recover_jobs", "--cancel", "{job}"], "interrupted", "jobs.change_job"),
    (["recover_jobs", "--fetch-labels", "{job}"], "completed", "jobs.change_job"),
    (["recover_jobs", "--restart", "{job}", "--confirm-duplicates"], "failed", "jobs.approve_job"),
    (["recover_jobs", "--decide-row", "{row}", "--not-shipped"], "cancelled", "jobs.approve_job"),
]


# Every permission below the one refused: a viewer, one who may create, a clerk (no approving).
ALL_BUT = {
    "jobs.add_job": ("view_job",),
    "jobs.change_job": ("view_job", "add_job"),
    "jobs.approve_job": ("view_job", "add_job", "change_job"),
}


@pytest.mark.parametrize(("args", "status", "permission"), ACTIONS)
def test_a_command_refuses_a_user_without_the_permission_of_its_action(
    args: list[str], status: str, permission: str
) -> None:
    user = staff("vic", *ALL_BUT[permission])
    job = job_with_rows(3, status=status)
    row = JobRow.objects.filter(job=job).earliest("row_number")
    JobRow.objects.filter(pk=row.pk).update(status="unknown")
    filled = [arg.format(source=job.data_source.name, job=job.pk, row=row.pk) for arg in args]
    before = (Job.objects.count(), AuditEntry.objects.count())

    with pytest.raises(CommandError) as refused:
        run(*filled, "--user", user.username)

    assert str(refused.value) == REFUSALS[permission]
    assert (Job.objects.count(), AuditEntry.objects.count()) == before
    assert Job.objects.get(pk=job.pk).status == status
    assert JobRow.objects.get(pk=row.pk).status == "unknown"


def test_an_operator_cancels_and_creates_with_the_commands_as_in_the_admin(
    orders_csv: Callable[..., DataSource],
) -> None:
    clerk = staff("casey", "add_job", "change_job")
    source = orders_csv(2)
    run("create_job", source.name, "--user", "casey")
    job = Job.objects.get()

    assert "Cancelled" in run("recover_jobs", "--cancel", str(job.pk), "--user", "casey")

    assert Job.objects.get().status == "cancelled"
    actions = AuditEntry.objects.filter(actor=clerk).values_list("action", flat=True)
    assert {"job_created", "job_cancelled"} <= set(actions)


def test_recover_jobs_refuses_an_action_chosen_at_its_question_and_offers_the_next_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    staff("vic", "view_job")
    job = job_with_rows(2, status="failed")
    second = job_with_rows(2, status="failed")
    monkeypatch.setattr("sys.stdin", TypedAnswers("c\nc\n"))

    said = run("recover_jobs", "--user", "vic")

    assert said.count(REFUSALS["jobs.change_job"]) == 2  # one refusal each, the walk goes on
    for refused in (job, second):
        assert Job.objects.get(pk=refused.pk).status == "failed"
        assert not AuditEntry.objects.filter(job=refused).exists()
