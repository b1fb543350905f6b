"""What every ShipOps command shares: finding jobs and users, and errors as one sentence."""

from __future__ import annotations

import math
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from jobs.actors import Actor, system_actor
from jobs.admin.common import rows
from jobs.models import Job, JobRow
from jobs.permissions import REFUSALS, lacks
from jobs.services.execution import job_execute
from jobs.services.preview import job_preview_run
from jobs.services.recovery import job_recovery_summary
from jobs.states import JobStatus, RowStatus
from jobs.summaries import job_progress, preview_summary
from jobs.terminal import preview_table, progress_bar, terminal_width
from shipops.errors import DomainError
from shipops.money import format_cents

# What the outcome line always counts, then what it counts when there is any.
OUTCOME_PARTS = ((RowStatus.SHIPPED, "shipped"), (RowStatus.FAILED, "failed"))
OUTCOME_EXTRA = (
    (RowStatus.UNKNOWN, "with an unknown outcome"),
    (RowStatus.PENDING, "not shipped yet"),
    (RowStatus.SKIPPED, "skipped"),
    (RowStatus.CANCELLED, "cancelled"),
)


def stdin_is_a_terminal() -> bool:
    """Say whether someone can answer a question here: not under cron, a pipe or a closed stdin."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # closed
        return False


class JobCommand(BaseCommand):
    """A command over jobs; a refused action ends it with the service's sentence."""

    def add_user_argument(self, parser: CommandParser, *, required: bool = False) -> None:
        parser.add_argument(
            "--user",
            required=required,
            help="the staff user acting (recorded in the audit trail)",
        )

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except DomainError as error:
            raise CommandError(error.message) from error
        except EOFError:
            raise CommandError("No answer (end of input): nothing more was done.") from None
        except KeyboardInterrupt:
            raise CommandError(
                "Stopped by Ctrl-C. What was done before it stays done; run the command "
                "again, or look at the job in the admin."
            ) from None

    def get_job(self, job_id: int) -> Job:
        try:
            return Job.objects.select_related("data_source").get(pk=job_id)
        except Job.DoesNotExist:
            raise CommandError(f"There is no job {job_id}.") from None

    def get_user(self, username: str | None, *permissions: str) -> User:
        """Return the staff user --user names; refuse one without any of ``permissions``."""
        if not username:
            raise CommandError(
                "Say who is acting with --user USERNAME (it goes in the audit trail)."
            )
        try:
            user = User.objects.get(username=username, is_active=True, is_staff=True)
        except User.DoesNotExist:
            raise CommandError(f"There is no active staff user named {username!r}.") from None
        self.require(user, *permissions)
        return user

    def get_actor(self, username: str | None, *permissions: str) -> Actor:
        """Return the --user (with ``permissions``), or without one the command itself."""
        # Without --user the command acts as itself: whoever runs manage.py is trusted.
        if not username:
            return system_actor(f"command {self.command_name}")
        return self.get_user(username, *permissions)

    def require(self, user: User, *permissions: str) -> None:
        """Refuse, in the admin's and the API's words, a user without one of ``permissions``."""
        if missing := lacks(user, permissions):
            raise CommandError(REFUSALS[missing])

    @property
    def command_name(self) -> str:
        return self.__module__.rsplit(".", 1)[-1]

    def print_preview(self, job: Job) -> None:
        self.stdout.write(preview_table(preview_summary(job), width=terminal_width()))

    def run_preview(self, job: Job, token: int) -> None:
        job_preview_run(job_id=job.pk, token=token)
        job.refresh_from_db()
        if job.status != "previewed":
            raise CommandError(f"The preview stopped: {job.last_error_message or job.status}")

    def run_execution(self, job: Job, token: int) -> Job:
        total = job_progress(job).total

        def report(row: JobRow) -> None:
            done = JobRow.objects.filter(job=job, status__in=["shipped", "failed"]).count()
            self._progress(done, total)

        try:
            job_execute(job_id=job.pk, token=token, slice_seconds=math.inf, on_row=report)
        except KeyboardInterrupt:
            job.refresh_from_db()
            raise CommandError(
                f"Stopped by Ctrl-C with {rows(job.shipped_count)} of {job} shipped. It shows as "
                f"running until its lease lapses ({settings.SHIPOPS_LEASE_SECONDS} s), then as "
                f"interrupted: resume it with `manage.py recover_jobs --resume {job.pk}`."
            ) from None
        job.refresh_from_db()
        self._progress(job_progress(job).done, total)
        self.stdout.write("")
        return job

    def _progress(self, done: int, total: int) -> None:
        if sys.stdout.isatty():
            self.stdout.write("\r" + progress_bar(done, total), ending="")
            self.stdout.flush()

    def print_outcome(self, job: Job) -> None:
        """Say how the batch ended; a batch that did not complete ends the command with status 1.

        Scripts and cron can then tell a failed or interrupted batch from a finished one.
        """
        cost = format_cents(job.actual_cost_cents, job.currency)
        groups = JobRow.objects.filter(job=job).values("status").annotate(n=Count("pk")).order_by()
        counts = {group["status"]: group["n"] for group in groups}
        parts = [f"{counts.get(status, 0)} {label}" for status, label in OUTCOME_PARTS]
        parts += [
            f"{counts[status]} {label}" for status, label in OUTCOME_EXTRA if counts.get(status)
        ]
        self.stdout.write(
            f"{job} is {job.get_status_display().lower()}: {', '.join(parts)}, actual cost {cost}."
        )
        if job.last_error_message:
            # Where it stopped and, while the job can be resumed, what resume will do.
            self.stderr.write(job_recovery_summary(job).last_error)
        if job.status not in (JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_WARNINGS):
            raise SystemExit(1)
