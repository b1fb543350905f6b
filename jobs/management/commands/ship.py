from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from datasources.models import DataSource, SourceKind
from jobs.management.base import JobCommand
from jobs.services.approval import job_approve, job_exclude_rows
from jobs.services.creation import job_create
from jobs.services.preview import job_preview_start
from jobs.states import JobMode

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


class Command(JobCommand):
    help = "Ship a CSV or Excel file end to end: source, job, preview, confirmation, labels."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="a file under SHIPOPS_SOURCE_ROOT (or a path inside it)")
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
        user = self.get_user(options["user"])
        source = self._source(options)
        mode = JobMode.AUTO if options["auto"] else JobMode.CONFIRM
        job = job_create(source=source, actor=user, mode=mode)
        self.stdout.write(f"{job}: {job.row_count} rows from {source.location}.")
        if job.invalid_count:
            if not options["exclude_invalid"]:
                raise CommandError(
                    f"{job.invalid_count} rows have errors (see the admin or preview_job "
                    f"{job.pk} --show-only); fix them or pass --exclude-invalid."
                )
            job_exclude_rows(job=job, actor=user)
        if mode == JobMode.CONFIRM:
            self.run_preview(job, job_preview_start(job=job, actor=user, in_background=False))
            self.print_preview(job)
            if job.invalid_count and not options["exclude_invalid"]:
                raise CommandError(
                    f"UPS refused to rate {job.invalid_count} rows; nothing was shipped."
                )
            job_exclude_rows(job=job, actor=user)
            if not self._confirmed(job.pk):
                self.stdout.write(
                    f"Not shipped. {job} stays previewed; approve it later if you wish."
                )
                return
        token = job_approve(job=job, acting_user=user, in_background=False)
        job = self.run_execution(job, token)
        self.print_outcome(job)
        self.stdout.write(f"Labels: {Path(settings.MEDIA_ROOT) / 'labels' / f'job-{job.pk}'}")

    def _source(self, options: dict[str, Any]) -> DataSource:
        root = Path(settings.SHIPOPS_SOURCE_ROOT).resolve()
        path = Path(options["path"]).expanduser()
        relative = path.resolve().relative_to(root) if path.is_absolute() else path
        kind = SourceKind.EXCEL if relative.suffix.lower() in EXCEL_SUFFIXES else SourceKind.CSV
        source, _ = DataSource.objects.get_or_create(
            file_path=str(relative),
            sheet_name=options["sheet"],
            defaults={
                "name": f"{relative} (ship command)",
                "kind": kind,
                "key_column": options["key_column"],
            },
        )
        return source

    def _confirmed(self, job_id: int) -> bool:
        if not sys.stdin.isatty():
            raise CommandError("Nobody can confirm here (no terminal): pass --auto to ship.")
        return input(f"Ship job {job_id} now? [y/N] ").strip().lower() in {"y", "yes"}
