from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from jobs.management.base import JobCommand
from jobs.permissions import APPROVE_PERMISSION
from jobs.services.approval import job_approve


class Command(JobCommand):
    help = "Approve a previewed job; a cluster then ships it (or --foreground ships it here)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job", type=int)
        parser.add_argument(
            "--switch-to-auto",
            action="store_true",
            help="record that later batches of this operator run in auto mode",
        )
        parser.add_argument(
            "--foreground",
            action="store_true",
            help="ship in this process with a progress bar instead of a cluster",
        )
        self.add_user_argument(parser, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        user = self.get_user(options["user"], APPROVE_PERMISSION)  # job_approve checks it too
        job = self.get_job(options["job"])
        token = job_approve(
            job=job,
            acting_user=user,
            switch_to_auto=options["switch_to_auto"],
            in_background=not options["foreground"],
        )
        if options["foreground"]:
            self.print_outcome(self.run_execution(job, token))
        else:
            self.stdout.write(f"Approved {job}; a cluster worker ships it now.")
