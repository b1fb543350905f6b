from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from jobs.management.base import JobCommand
from jobs.permissions import OPERATE_PERMISSION
from jobs.services.preview import job_preview_start


class Command(JobCommand):
    help = "Rate a job's rows and check their addresses, then print the preview table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job", type=int)
        parser.add_argument(
            "--show-only", action="store_true", help="print the last preview without rating again"
        )
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        job = self.get_job(options["job"])
        if not options["show_only"]:
            actor = self.get_actor(options["user"], OPERATE_PERMISSION)
            self.run_preview(job, job_preview_start(job=job, actor=actor, in_background=False))
        self.print_preview(job)
