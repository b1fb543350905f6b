"""`manage.py ship`: which data source it ships with, and bad input as one sentence."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command

from datasources.models import DataSource, SourceKind
from jobs.management.commands import ship as ship_command
from jobs.models import AuditEntry, Job
from jobs.permissions import REFUSALS
from tests.factories import DataSourceFactory, UserFactory
from tests.fixtures.sources import csv_bytes, order_rows, xlsx_bytes
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.test_commands import TypedAnswers, run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _dana_may_add_sources(approver: User) -> None:
    """`ship` makes a data source for a new file: like the admin, it asks "add data source"."""
    approver.user_permissions.add(Permission.objects.get(codename="add_datasource"))


def test_an_absolute_path_inside_the_source_folder_is_shipped_by_its_relative_path(
    ups_sandbox: SandboxController,
    write_source: Callable[[str, bytes], Path],
    approver: User,
    source_root: Path,
) -> None:
    write_source("east/today.csv", csv_bytes(order_rows(2)))

    out = run("ship", str(source_root / "east" / "today.csv"), "--auto", "--user", "dana")

    source = DataSource.objects.get()
    assert (source.name, source.file_path) == ("east/today.csv (ship command)", "east/today.csv")
    assert 'Created data source "east/today.csv (ship command)".' in out
    assert f"{Job.objects.get()} is completed: 2 shipped" in out
    added = AuditEntry.objects.get(action="data_source_added")  # who made it, and how
    assert (added.actor, added.data["data_source"]) == (approver, source.pk)
    assert added.data["changes"]["file_path"] == {"from": None, "to": "east/today.csv"}


def test_an_absolute_path_outside_the_source_folder_is_refused_naming_the_folder(
    approver: User, source_root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(csv_bytes(order_rows(1)))

    with pytest.raises(CommandError) as refused:
        run("ship", str(outside), "--user", "dana")

    assert str(refused.value) == (
        f"{outside} is not in the source folder ({source_root.resolve()}): give a path inside "
        "it, or copy the file there first."
    )
    assert not DataSource.objects.exists()


def test_a_missing_file_is_refused_before_a_source_is_made(approver: User) -> None:
    with pytest.raises(CommandError, match=r'The file "nope\.csv" was not found'):
        run("ship", "nope.csv", "--user", "dana")
    assert not DataSource.objects.exists()


def test_a_key_column_the_file_lacks_is_refused_before_a_source_is_made(
    write_source: Callable[[str, bytes], Path], approver: User
) -> None:
    write_source("orders.csv", csv_bytes(order_rows(1)))
    with pytest.raises(CommandError) as refused:
        run("ship", "orders.csv", "--key-column", "nope", "--user", "dana")
    assert str(refused.value).startswith(
        '"orders.csv" has no column "nope" (its columns: order_id, recipient,'
    )
    assert not DataSource.objects.exists()  # so the right --key-column can be given next


def test_each_sheet_of_a_workbook_gets_a_source_of_its_own(
    ups_sandbox: SandboxController, write_source: Callable[[str, bytes], Path], approver: User
) -> None:
    write_source("book.xlsx", xlsx_bytes({"A": order_rows(1), "B": order_rows(2)}))
    # What an earlier `ship book.xlsx --sheet A` left behind, named before sheets were.
    first = DataSourceFactory.create(
        name="book.xlsx (ship command)",
        kind=SourceKind.EXCEL,
        file_path="book.xlsx",
        sheet_name="A",
    )

    out = run("ship", "book.xlsx", "--sheet", "B", "--auto", "--user", "dana")

    second = DataSource.objects.get(sheet_name="B")
    assert second.name == "book.xlsx, sheet B (ship command)"
    assert "2 shipped" in out
    again = run("ship", "book.xlsx", "--sheet", "A", "--auto", "--user", "dana")
    assert 'Using data source "book.xlsx (ship command)".' in again
    assert Job.objects.filter(data_source=first).count() == 1
    assert DataSource.objects.count() == 2


def test_a_name_already_taken_gets_a_number(
    ups_sandbox: SandboxController, write_source: Callable[[str, bytes], Path], approver: User
) -> None:
    # The first sheet of a workbook, after `ship book.xlsx --sheet A` took the plain name.
    write_source("book.xlsx", xlsx_bytes({"A": order_rows(1)}))
    DataSourceFactory.create(
        name="book.xlsx (ship command)",
        kind=SourceKind.EXCEL,
        file_path="book.xlsx",
        sheet_name="A",
    )

    run("ship", "book.xlsx", "--auto", "--user", "dana")

    assert DataSource.objects.get(sheet_name="").name == "book.xlsx (ship command 2)"


def test_two_sources_of_the_file_are_refused_naming_both(
    write_source: Callable[[str, bytes], Path], approver: User
) -> None:
    write_source("orders.csv", csv_bytes(order_rows(1)))
    DataSourceFactory.create(name="Orders", file_path="orders.csv")
    DataSourceFactory.create(name="Orders by id", file_path="orders.csv", key_column="order_id")

    with pytest.raises(CommandError) as refused:
        run("ship", "orders.csv", "--user", "dana")

    assert str(refused.value) == (
        '2 data sources read orders.csv: "Orders", "Orders by id". Ship with the one you mean by '
        "name (create_job NAME, preview_job JOB, approve_job JOB), or delete the others."
    )
    assert not Job.objects.exists()


def test_the_source_the_command_made_before_wins_over_others_of_the_file(
    ups_sandbox: SandboxController, write_source: Callable[[str, bytes], Path], approver: User
) -> None:
    write_source("orders.csv", csv_bytes(order_rows(1)))
    DataSourceFactory.create(name="Orders", file_path="orders.csv")
    own = DataSourceFactory.create(name="orders.csv (ship command)", file_path="orders.csv")

    out = run("ship", "orders.csv", "--auto", "--user", "dana")

    assert 'Using data source "orders.csv (ship command)".' in out
    assert Job.objects.get().data_source == own


@pytest.mark.parametrize(
    ("key_column", "keyed_by"),
    [("id", 'column "order_id"'), ("order_id", "the row number")],
)
def test_a_key_column_other_than_the_sources_is_refused(
    write_source: Callable[[str, bytes], Path], approver: User, key_column: str, keyed_by: str
) -> None:
    write_source("orders.csv", csv_bytes(order_rows(1)))
    source_key = "" if key_column == "order_id" else "order_id"
    DataSourceFactory.create(name="Orders", file_path="orders.csv", key_column=source_key)

    with pytest.raises(CommandError) as refused:
        run("ship", "orders.csv", "--key-column", key_column, "--user", "dana")

    assert str(refused.value) == (
        f'Data source "Orders" identifies rows by {keyed_by}, not by column "{key_column}": '
        "leave out --key-column, or change the key column on the data source's page."
    )
    assert not Job.objects.exists()


def test_a_sheet_of_a_csv_file_is_refused(
    write_source: Callable[[str, bytes], Path], approver: User
) -> None:
    write_source("orders.csv", csv_bytes(order_rows(1)))

    with pytest.raises(CommandError, match=r"orders\.csv is a CSV file: --sheet is for Excel"):
        run("ship", "orders.csv", "--sheet", "B", "--user", "dana")
    assert not DataSource.objects.exists()


def test_two_ships_of_a_new_file_at_once_share_one_source(
    write_source: Callable[[str, bytes], Path],
    approver: User,
    ups_sandbox: SandboxController,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_source("g.csv", csv_bytes(order_rows(2)))
    name = "g.csv (ship command)"
    real = ship_command.Command._existing_source
    looked: list[str] = []

    def racing(command: ship_command.Command, relative: str, sheet: str) -> DataSource | None:
        looked.append(relative)
        if len(looked) == 1:  # the other `ship` creates the source right after this one looked
            DataSourceFactory.create(name=name, kind=SourceKind.CSV, file_path=relative)
            return None
        return real(command, relative, sheet)

    monkeypatch.setattr(ship_command.Command, "_existing_source", racing)
    monkeypatch.setattr(ship_command.Command, "_new_name", lambda *args: name)

    run("ship", "g.csv", "--auto", "--user", "dana")  # an IntegrityError before the fix

    assert DataSource.objects.get().name == name
    assert Job.objects.get().shipped_count == 2


def test_without_a_terminal_ship_refuses_before_rating_or_creating_anything(
    ups_sandbox: SandboxController,
    write_source: Callable[[str, bytes], Path],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_source("today.csv", csv_bytes(order_rows(3)))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # cron or a pipe: nobody to ask

    with pytest.raises(CommandError) as refused:
        run("ship", "today.csv", "--user", "dana")

    assert ups_sandbox.requests() == []  # the preview used to rate every row first
    assert not DataSource.objects.exists()
    assert not Job.objects.exists()
    assert not AuditEntry.objects.exists()
    assert str(refused.value) == (
        "There is no terminal to confirm the shipment on (cron, a pipe): pass --auto to ship "
        "without a preview or a question; nothing was done."
    )


@pytest.mark.parametrize(
    ("answer", "status", "shipped"), [("y", "completed", 2), ("n", "previewed", 0)]
)
def test_at_a_terminal_ship_previews_then_asks(
    ups_sandbox: SandboxController,
    write_source: Callable[[str, bytes], Path],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    status: str,
    shipped: int,
) -> None:
    write_source("today.csv", csv_bytes(order_rows(2)))
    monkeypatch.setattr("sys.stdin", TypedAnswers(f"{answer}\n"))

    out = run("ship", "today.csv", "--user", "dana")

    job = Job.objects.get()
    assert "Total rows: 2" in out
    assert (job.status, job.shipped_count, len(ups_sandbox.ledger())) == (status, shipped, shipped)


def test_rows_with_errors_are_listed_and_their_job_cancelled_when_ship_stops(
    ups_sandbox: SandboxController, write_source: Callable[[str, bytes], Path], approver: User
) -> None:
    lines = order_rows(3)
    lines[2][5] = "3030"  # not a ZIP code
    write_source("today.csv", csv_bytes(lines))
    out = io.StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("ship", "today.csv", "--auto", "--user", "dana", stdout=out)

    job = Job.objects.get()
    assert str(refused.value) == (
        "1 row has errors: fix them in the source and run ship again, or pass "
        f"--exclude-invalid to ship the others. {job} was cancelled; nothing was shipped."
    )
    assert '  row 2 (key 2): Column "zip": "3030" is not a US ZIP code' in out.getvalue()
    assert (job.status, len(ups_sandbox.ledger())) == ("cancelled", 0)


def test_exclude_invalid_on_a_file_without_errors_ships_every_row(
    ups_sandbox: SandboxController,
    write_source: Callable[[str, bytes], Path],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_source("today.csv", csv_bytes(order_rows(2)))
    monkeypatch.setattr("sys.stdin", TypedAnswers("y\n"))

    run("ship", "today.csv", "--exclude-invalid", "--user", "dana")

    assert (Job.objects.get().status, len(ups_sandbox.ledger())) == ("completed", 2)


@pytest.mark.parametrize(
    ("codenames", "refused"),
    [
        (("view_job",), "jobs.add_job"),
        (("view_job", "add_job"), "jobs.change_job"),
        (("view_job", "add_job", "change_job", "add_datasource"), "jobs.approve_job"),
        (("view_job", "add_job", "change_job", "approve_job"), "datasources.add_datasource"),
    ],
)
def test_ship_refuses_a_user_without_a_permission_before_creating_anything(
    ups_sandbox: SandboxController,
    write_source: Callable[[str, bytes], Path],
    codenames: tuple[str, ...],
    refused: str,
) -> None:
    # Before: the source and an auto-mode job were made, then approving was refused.
    write_source("viewer.csv", csv_bytes(order_rows(2)))
    user = UserFactory.create(username="vic")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))

    with pytest.raises(CommandError) as stopped:
        run("ship", "viewer.csv", "--auto", "--user", "vic")

    assert str(stopped.value) == REFUSALS[refused]
    assert not DataSource.objects.exists()
    assert not Job.objects.exists()
    assert not AuditEntry.objects.exists()
    assert ups_sandbox.requests() == []


def test_a_file_that_is_not_a_source_is_refused_before_a_source_is_made(
    write_source: Callable[[str, bytes], Path], approver: User
) -> None:
    write_source("cli_garbage.csv", bytes(range(256)) * 8)

    with pytest.raises(CommandError) as refused:
        run("ship", "cli_garbage.csv", "--auto", "--user", "dana")

    assert (
        str(refused.value) == '"cli_garbage.csv" contains binary data; it is not a CSV text file.'
    )
    assert not DataSource.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_source_no_job_could_be_made_from_is_removed_again(
    write_source: Callable[[str, bytes], Path], approver: User
) -> None:
    write_source("empty.csv", csv_bytes(order_rows(0)))  # the header and no order

    said = io.StringIO()
    with pytest.raises(CommandError, match="has no data rows"):
        call_command("ship", "empty.csv", "--auto", "--user", "dana", stdout=said)

    assert not DataSource.objects.exists()
    assert not Job.objects.exists()
    assert 'Deleted data source "empty.csv (ship command)": no job was made from it.' in (
        said.getvalue()
    )
    history = AuditEntry.objects.order_by("pk").values_list("action", "actor__username")
    assert list(history) == [("data_source_added", "dana"), ("data_source_deleted", "dana")]


def test_a_job_whose_approval_is_refused_is_cancelled_not_left_as_a_draft(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    source = orders_csv(2, name="today.csv")
    run("create_job", source.name, "--mode", "auto", "--user", "dana")
    first = Job.objects.get()
    run("approve_job", str(first.pk), "--user", "dana")  # queued, its rows not shipped yet

    said = io.StringIO()
    with pytest.raises(CommandError, match=f"{first} \\(approved\\) may still ship rows 1-2"):
        call_command("ship", "today.csv", "--auto", "--user", "dana", stdout=said)

    again = Job.objects.exclude(pk=first.pk).get()
    assert (again.status, Job.objects.get(pk=first.pk).status) == ("cancelled", "approved")
    assert f"{again} was cancelled; nothing was shipped." in said.getvalue()
    assert ups_sandbox.ledger() == []
