from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from jobs.management.base import JobCommand
from jobs.models import Job
from jobs.permissions import OPERATE_PERMISSION
from jobs.services.lease import lease_hand_over
from jobs.states import JobStatus


class Command(JobCommand):
    help = "Ship an approved job in this process, with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job", type=int)
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        # Working on an approved job, as resume does: its approver already bought the labels.
        actor = self.get_actor(options["user"], OPERATE_PERMISSION)
        job = self.get_job(options["job"])
        with transaction.atomic():
            locked = Job.objects.select_for_update().get(pk=job.pk)
            if locked.status != JobStatus.APPROVED:
                raise CommandError(
                    f"{job} is {locked.get_status_display().lower()}; run_job ships approved "
                    "jobs (use recover_jobs for interrupted or failed ones)."
                )
            # Taking the job over makes any task already queued for it exit unused.
            token = lease_hand_over(job=locked, actor=actor)
        self.print_outcome(self.run_execution(job, token))
