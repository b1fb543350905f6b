from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser

from jobs.actors import system_actor
from jobs.management.base import JobCommand
from jobs.models import Job, JobRow
from jobs.services.cancel import job_cancel
from jobs.services.reconcile import row_decide_unknown
from jobs.services.recovery import job_recovery_summary, jobs_mark_lapsed
from jobs.services.restart import job_restart, job_restart_refusal, job_restart_warning
from jobs.services.resume import job_resume
from jobs.states import JobStatus

CHOICES = "[r]esume, re[s]tart, [c]ancel or [k]eep as it is"


class Command(JobCommand):
    help = (
        "Mark jobs whose worker died as interrupted, list interrupted and failed jobs, and "
        "resume, restart or cancel them (asks for each, or use the flags)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()  # one action per run
        action.add_argument("--resume", type=int, metavar="JOB")
        action.add_argument("--restart", type=int, metavar="JOB")
        action.add_argument("--cancel", type=int, metavar="JOB")
        action.add_argument(
            "--decide-row", type=int, metavar="ROW_ID", help="settle a row whose outcome is unknown"
        )
        restart = parser.add_mutually_exclusive_group()
        restart.add_argument(
            "--confirm-duplicates",
            action="store_true",
            help="with --restart: ship rows again although they already shipped",
        )
        restart.add_argument(
            "--void-first",
            action="store_true",
            help="with --restart: void the shipped rows at UPS first",
        )
        parser.add_argument(
            "--tracking", default="", help="with --decide-row: it shipped with this tracking number"
        )
        parser.add_argument(
            "--not-shipped",
            action="store_true",
            help="with --decide-row: it did not ship (resume ships it)",
        )
        parser.add_argument("--no-input", action="store_true", help="list only, never ask")
        parser.add_argument(
            "--foreground",
            action="store_true",
            help="with --resume, or a resume chosen at a question: ship in this process",
        )
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        _refuse_flags_without_their_action(options)
        marked = jobs_mark_lapsed(actor=system_actor("recover_jobs"))
        for job in marked:
            # A lapsed preview goes back to draft, a lapsed batch is interrupted.
            self.stdout.write(
                f"{job} is now {job.get_status_display().lower()}: its worker stopped answering."
            )
        if options["decide_row"]:
            self._decide(options)
        elif options["resume"]:
            self._resume(self.get_job(options["resume"]), options)
        elif options["restart"]:
            self._restart(self.get_job(options["restart"]), options)
        elif options["cancel"]:
            job = job_cancel(
                job=self.get_job(options["cancel"]), actor=self.get_actor(options["user"])
            )
            self.stdout.write(f"Cancelled {job}; {job.shipped_count} shipped rows are kept.")
        else:
            self._walk(interactive=sys.stdin.isatty() and not options["no_input"], options=options)

    def _walk(self, *, interactive: bool, options: dict[str, Any]) -> None:
        stopped = Job.objects.filter(status__in=[JobStatus.INTERRUPTED, JobStatus.FAILED])
        if not stopped:
            self.stdout.write("No interrupted or failed jobs.")
            return
        for job in stopped.order_by("pk"):
            summary = job_recovery_summary(job)
            self.stdout.write(self.style.WARNING(summary.headline))
            if summary.last_error:
                self.stdout.write(f"  {summary.last_error}")
            refusal = job_restart_refusal(job)
            if refusal is not None:
                self.stdout.write(f"  Restart is not available: {refusal.message}")
            if not interactive:
                continue
            answer = input(f"  {CHOICES}? ").strip().lower()[:1]
            if answer == "r":
                self._resume(job, options)
            elif answer == "s" and refusal is not None:
                self.stdout.write(f"  Kept {job} as it is.")
            elif answer == "s":
                self._restart(job, {**options, "confirm_duplicates": self._confirm_restart(job)})
            elif answer == "c":
                job_cancel(job=job, actor=self.get_actor(options["user"]))
                self.stdout.write(f"  Cancelled {job}.")

    def _confirm_restart(self, job: Job) -> bool:
        warning = job_restart_warning(job)
        if not warning:
            return True
        return input(f"  {warning} Type 'duplicate' to go on: ").strip() == "duplicate"

    def _resume(self, job: Job, options: dict[str, Any]) -> None:
        token = job_resume(
            job=job, actor=self.get_actor(options["user"]), in_background=not options["foreground"]
        )
        if options["foreground"]:
            self.print_outcome(self.run_execution(job, token))
        else:
            self.stdout.write(f"Resumed {job}; a cluster worker continues it now.")

    def _restart(self, job: Job, options: dict[str, Any]) -> None:
        new_job = job_restart(
            job=job,
            acting_user=self.get_user(options["user"]),
            confirm_duplicates=options["confirm_duplicates"],
            void_first=options["void_first"],
            seen_token=job.fencing_token,  # as listed: a job resumed since is refused as stale
        )
        self.stdout.write(
            f"Cancelled {job} and created {new_job} with its rows "
            f"({new_job.get_status_display().lower()})."
        )

    def _decide(self, options: dict[str, Any]) -> None:
        if options["tracking"] != "" and not options["tracking"].strip():
            raise CommandError("--tracking is blank: give the tracking number the parcel has.")
        if bool(options["tracking"]) == options["not_shipped"]:
            raise CommandError("With --decide-row give either --tracking NUMBER or --not-shipped.")
        try:
            row = JobRow.objects.get(pk=options["decide_row"])
        except JobRow.DoesNotExist:
            raise CommandError(f"There is no row {options['decide_row']}.") from None
        decision = row_decide_unknown(
            row=row, actor=self.get_actor(options["user"]), tracking_number=options["tracking"]
        )
        self.stdout.write(decision.sentence)


# Flags that mean something only with one action: given without it, they were a mistake.
NEEDS = {
    "confirm_duplicates": ("restart", "--confirm-duplicates", "--restart JOB"),
    "void_first": ("restart", "--void-first", "--restart JOB"),
    "tracking": ("decide_row", "--tracking", "--decide-row ROW_ID"),
    "not_shipped": ("decide_row", "--not-shipped", "--decide-row ROW_ID"),
}  # --foreground also serves the questions' resume


def _refuse_flags_without_their_action(options: dict[str, Any]) -> None:
    for name, (action, flag, needed) in NEEDS.items():
        if options[name] not in ("", False, None) and not options[action]:
            raise CommandError(f"{flag} goes with {needed}; nothing was done.")
