from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import CommandError, CommandParser
from django.db import IntegrityError, transaction

from datasources.adapters import get_adapter
from datasources.files import existing_source_file, source_root
from datasources.headers import find_column
from datasources.models import DataSource, SourceKind
from datasources.signals import source_changed
from jobs.admin.common import rows
from jobs.management.base import JobCommand, stdin_is_a_terminal
from jobs.models import Job
from jobs.permissions import (
    ADD_SOURCE_PERMISSION,
    APPROVE_PERMISSION,
    CREATE_PERMISSION,
    OPERATE_PERMISSION,
)
from jobs.services.approval import job_approve, job_exclude_rows
from jobs.services.cancel import job_cancel
from jobs.services.creation import job_create
from jobs.services.preview import job_preview_start
from jobs.states import JobMode, JobStatus, RowStatus
from shipops.errors import DomainError
from shipops.words import counted

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
# The names this command gives the sources it creates: "orders.csv (ship command)",
# "book.xlsx, sheet B (ship command)", "... (ship command 2)" when the name is taken.
OWN_NAME_RE = re.compile(r" \(ship command(?: \d+)?\)$")
MAX_NAME = DataSource._meta.get_field("name").max_length or 120
ERRORS_SHOWN = 10  # rows with errors listed when the command stops for them
# What a data source this command creates is made of.
NEW_SOURCE_FIELDS = ("name", "kind", "file_path", "sheet_name", "key_column")
# Create the job, preview it and leave rows with errors out, approve it (so ship it): asked
# before anything is made, as the admin and the API ask them for the same steps.
SHIP_PERMISSIONS = (CREATE_PERMISSION, OPERATE_PERMISSION, APPROVE_PERMISSION)
NO_TERMINAL = (
    "There is no terminal to confirm the shipment on (cron, a pipe): pass --auto to ship "
    "without a preview or a question; nothing was done."
)


class Command(JobCommand):
    help = "Ship a CSV or Excel file end to end: source, job, preview, confirmation, labels."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            help="a file in SHIPOPS_SOURCE_ROOT: relative to it, or an absolute path inside it",
        )
        parser.add_argument("--auto", action="store_true", help="ship without asking")
        parser.add_argument("--sheet", default="", help="Excel: the sheet (default: the first)")
        parser.add_argument("--key-column", default="", help="the column that identifies a row")
        parser.add_argument(
            "--exclude-invalid",
            action="store_true",
            help="leave out rows with errors instead of stopping",
        )
        self.add_user_argument(parser, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        user = self.get_user(options["user"], *SHIP_PERMISSIONS)
        source = self._find_source(options)
        if source.pk is None:  # a new source: the admin asks for the same permission
            self.require(user, ADD_SOURCE_PERMISSION)
        mode = JobMode.AUTO if options["auto"] else JobMode.CONFIRM
        # Refused before any work: the preview rates every row with UPS, only to ask at the end.
        if mode == JobMode.CONFIRM and not stdin_is_a_terminal():
            raise CommandError(NO_TERMINAL)
        source, made_source = self._saved(source, user)
        try:
            job = job_create(source=source, actor=user, mode=mode)
        except DomainError:
            if made_source:  # nothing of a refused run is left behind
                self._remove_source(source, user)
            raise
        self.stdout.write(f"{job}: {counted(job.row_count, 'row')} from {source.location}.")
        try:
            token = self._approved(job, user, mode, options)
        except (DomainError, CommandError):
            self._cancel_if_left(job, user)
            raise
        if token is None:
            return
        job = self.run_execution(job, token)
        self.stdout.write(f"Labels: {Path(settings.MEDIA_ROOT) / 'labels' / f'job-{job.pk}'}")
        self.print_outcome(job)  # last: a batch that did not complete ends with status 1

    def _approved(self, job: Job, user: User, mode: str, options: dict[str, Any]) -> int | None:
        """Leave out rows with errors, preview and ask (confirm mode), approve; None: not now."""
        if job.invalid_count:
            if not options["exclude_invalid"]:
                has = "has" if job.invalid_count == 1 else "have"
                self._stop_for_errors(job, user, f"{rows(job.invalid_count)} {has} errors")
            job_exclude_rows(job=job, actor=user)
        if mode == JobMode.CONFIRM:
            self.run_preview(job, job_preview_start(job=job, actor=user, in_background=False))
            self.print_preview(job)
            if job.invalid_count:
                if not options["exclude_invalid"]:
                    refused = f"UPS refused to rate {rows(job.invalid_count)}"
                    self._stop_for_errors(job, user, refused)
                job_exclude_rows(job=job, actor=user)
            if not self._confirmed(job.pk):
                self.stdout.write(
                    f"Not shipped. {job} stays previewed; approve it later if you wish."
                )
                return None
        return job_approve(job=job, acting_user=user, in_background=False)

    def _cancel_if_left(self, job: Job, user: User) -> None:
        """Cancel ``job`` unless a step did already: a refused run leaves no job to act on."""
        job.refresh_from_db()
        if job.status in (JobStatus.CANCELLED, JobStatus.APPROVED, JobStatus.RUNNING):
            return  # cancelled for its rows with errors, or already the batch's to finish
        try:
            job_cancel(job=job, actor=user, reason="The ship command stopped before shipping.")
        except DomainError as error:  # the refusal that stopped the run is what matters
            self.stderr.write(f"{job} could not be cancelled: {error.message}")
            return
        self.stdout.write(f"{job} was cancelled; nothing was shipped.")

    def _remove_source(self, source: DataSource, user: User) -> None:
        """Delete the source this run created when no job could be made from it (audited)."""
        with transaction.atomic():
            source_changed.send(
                sender=DataSource, source=source, actor=user, action="deleted", changes={}
            )
            source.delete()
        self.stdout.write(f'Deleted data source "{source.name}": no job was made from it.')

    def _find_source(self, options: dict[str, Any]) -> DataSource:
        """Return the data source that reads the file (and sheet); a new one is not saved yet."""
        relative = self._relative_path(options["path"])
        existing_source_file(relative)  # a SourceError (missing, outside...) ends the command
        sheet, key_column = options["sheet"], options["key_column"]
        kind = (
            SourceKind.EXCEL if Path(relative).suffix.lower() in EXCEL_SUFFIXES else SourceKind.CSV
        )
        if sheet and kind == SourceKind.CSV:
            raise CommandError(f"{relative} is a CSV file: --sheet is for Excel workbooks.")
        source = self._existing_source(relative, sheet)
        if source is None:
            source = DataSource(
                name=self._new_name(relative, sheet),
                kind=kind,
                file_path=relative,
                sheet_name=sheet,
                key_column=key_column,
            )
            self._check_readable(source, relative)
        else:
            self._check_same_key_column(source, key_column)
        return source

    def _saved(self, source: DataSource, user: User) -> tuple[DataSource, bool]:
        """Return ``source``, creating it (with its audit entry) if ``_find_source`` made it.

        The flag says whether this run created it.
        """
        if source.pk is not None:
            self.stdout.write(f'Using data source "{source.name}".')
            return source, False
        fields = {name: getattr(source, name) for name in NEW_SOURCE_FIELDS}
        try:
            with transaction.atomic():
                created = DataSource.objects.create(**fields)
                source_changed.send(
                    sender=DataSource,
                    source=created,
                    actor=user,
                    action="added",
                    changes={key: {"from": None, "to": value} for key, value in fields.items()},
                )
        except IntegrityError:  # another `ship` of this file created it a moment ago
            made = self._existing_source(source.file_path, source.sheet_name)
            if made is None:
                raise
            self._check_same_key_column(made, source.key_column)
            self.stdout.write(f'Using data source "{made.name}".')
            return made, False
        self.stdout.write(f'Created data source "{created.name}".')
        return created, True

    def _check_same_key_column(self, source: DataSource, key_column: str) -> None:
        """Refuse a --key-column other than the one the existing source identifies rows by."""
        if key_column and key_column != source.key_column:
            keyed_by = f'column "{source.key_column}"' if source.key_column else "the row number"
            raise CommandError(
                f'Data source "{source.name}" identifies rows by {keyed_by}, not by column '
                f'"{key_column}": leave out --key-column, or change the key column on the data '
                "source's page."
            )

    def _check_readable(self, source: DataSource, relative: str) -> None:
        """Refuse, before the data source is created, a file it could not read or write back.

        A binary file, one without a header, a read-only one (SourceError), or a
        --key-column the file does not have.
        """
        adapter = get_adapter(source)
        headers = adapter.headers()
        adapter.check_write_back()
        if source.key_column and find_column(headers, source.key_column) is None:
            raise CommandError(
                f'"{relative}" has no column "{source.key_column}" (its columns: '
                f"{', '.join(headers)}); nothing was created. Give one of them, or leave out "
                "--key-column to find rows by their number."
            )

    def _relative_path(self, given: str) -> str:
        """Return ``given`` relative to the source folder; an absolute path must lie inside it."""
        path = Path(given).expanduser()
        if not path.is_absolute():
            return str(path)
        root = source_root()
        # Only the folder is resolved: a link in the source folder keeps its own name.
        resolved = path.parent.resolve() / path.name
        if not resolved.is_relative_to(root) or resolved == root:
            raise CommandError(
                f"{path} is not in the source folder ({root}): give a path inside it, or copy "
                "the file there first."
            )
        return str(resolved.relative_to(root))

    def _existing_source(self, relative: str, sheet: str) -> DataSource | None:
        """Return the source this command uses for the file, or None when there is none yet.

        The one the command created before wins; else the only one; several are refused,
        as they may differ in mapping, key column or ship-from address.
        """
        sources = list(
            DataSource.objects.filter(
                kind__in=[SourceKind.CSV, SourceKind.EXCEL], file_path=relative, sheet_name=sheet
            ).order_by("created_at", "pk")
        )
        own = [source for source in sources if OWN_NAME_RE.search(source.name)]
        if own:
            return own[0]
        if len(sources) <= 1:
            return sources[0] if sources else None
        names = ", ".join(f'"{source.name}"' for source in sources)
        where = f"{relative} [{sheet}]" if sheet else relative
        raise CommandError(
            f"{len(sources)} data sources read {where}: {names}. Ship with the one you mean "
            "by name (create_job NAME, preview_job JOB, approve_job JOB), or delete the others."
        )

    def _new_name(self, relative: str, sheet: str) -> str:
        """Return a free name for a source this command creates."""
        label = f"{relative}, sheet {sheet}" if sheet else relative
        for attempt in range(1, 100):
            suffix = " (ship command)" if attempt == 1 else f" (ship command {attempt})"
            room = MAX_NAME - len(suffix)
            name = (label if len(label) <= room else "…" + label[-(room - 1) :]) + suffix
            if not DataSource.objects.filter(name=name).exists():
                return name
        raise CommandError(f"Too many data sources are named like {label} (ship command).")

    def _stop_for_errors(self, job: Job, user: User, what: str) -> NoReturn:
        """List the rows with errors, cancel ``job`` (a new run makes a new one), and stop."""
        for row in job.rows.filter(status=RowStatus.PENDING, is_valid=False)[:ERRORS_SHOWN]:
            problems = "; ".join(error.get("message", "") for error in row.errors)
            self.stdout.write(f"  row {row.row_number} (key {row.source_key}): {problems}")
        if job.invalid_count > ERRORS_SHOWN:
            self.stdout.write(f"  ... and {job.invalid_count - ERRORS_SHOWN} more.")
        job_cancel(job=job, actor=user, reason=f"The ship command stopped: {what}.")
        raise CommandError(
            f"{what}: fix them in the source and run ship again, or pass --exclude-invalid to "
            f"ship the others. {job} was cancelled; nothing was shipped."
        )

    def _confirmed(self, job_id: int) -> bool:
        # handle() refused to start without a terminal to ask on.
        return input(f"Ship job {job_id} now? [y/N] ").strip().lower() in {"y", "yes"}
