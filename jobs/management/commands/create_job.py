from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from datasources.models import DataSource
from jobs.admin.common import rows
from jobs.filters import RowFilter
from jobs.management.base import JobCommand
from jobs.permissions import APPROVE_PERMISSION, CREATE_PERMISSION
from jobs.services.creation import job_create
from jobs.states import JobMode


class Command(JobCommand):
    help = "Create a job from a data source (by id or name), optionally filtered."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="data source id or name")
        parser.add_argument("--column", help="filter: the column to look at")
        parser.add_argument("--equals", help="filter: the column equals this (any case)")
        parser.add_argument("--contains", help="filter: the column contains this (any case)")
        parser.add_argument("--first-row", type=int, help="filter: first data row (1-based)")
        parser.add_argument("--last-row", type=int, help="filter: last data row")
        parser.add_argument(
            "--include-shipped",
            action="store_true",
            help="also take rows that already have a tracking number",
        )
        parser.add_argument("--mode", choices=JobMode.values, default=JobMode.CONFIRM)
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        # As POST /api/jobs/ asks: an auto-mode job is an approval too.
        auto = options["mode"] == JobMode.AUTO
        needed = (CREATE_PERMISSION, APPROVE_PERMISSION) if auto else (CREATE_PERMISSION,)
        actor = self.get_actor(options["user"], *needed)
        source = find_source(options["source"])
        if options["equals"] and options["contains"]:
            raise CommandError("Give --equals or --contains, not both.")
        value = options["equals"] or options["contains"] or ""
        row_filter = RowFilter.from_json(
            {
                "column": options["column"] or "",
                "match": "contains" if options["contains"] else "equals",
                "value": value,
                "first_row": options["first_row"],
                "last_row": options["last_row"],
            }
        )
        job = job_create(
            source=source,
            actor=actor,
            mode=options["mode"],
            row_filter=row_filter,
            include_already_shipped=options["include_shipped"],
        )
        self.stdout.write(
            f"Created {job} from {source}: {rows(job.row_count)}, {job.invalid_count} with errors, "
            f"{job.already_shipped_count} already shipped and left out."
        )


def find_source(identifier: str) -> DataSource:
    """Return the data source with this id or name, or stop with a clear error."""
    sources = DataSource.objects.filter(name=identifier)
    if identifier.isdigit():
        sources = sources | DataSource.objects.filter(pk=int(identifier))
    found = list(sources.order_by("pk")[:2])
    if not found:
        raise CommandError(f"There is no data source {identifier!r} (give its id or its name).")
    if len(found) > 1:  # one source's id, another's name: never guess which is meant
        names = " and ".join(f'"{source.name}" (id {source.pk})' for source in found)
        raise CommandError(
            f"{identifier!r} names two data sources, {names}: give the other one's name, "
            "or rename the source whose name is a number."
        )
    return found[0]
