from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from django.core.management.base import CommandError, CommandParser

from jobs.actors import system_actor
from jobs.management.base import JobCommand, stdin_is_a_terminal
from jobs.models import Job, JobRow
from jobs.permissions import APPROVE_PERMISSION, OPERATE_PERMISSION
from jobs.selectors import job_rows
from jobs.services.cancel import job_cancel
from jobs.services.label_recovery import job_fetch_labels
from jobs.services.reconcile import row_decide_unknown
from jobs.services.recovery import job_recovery_summary, jobs_mark_lapsed
from jobs.services.restart import job_restart, job_restart_refusal, job_restart_warning
from jobs.services.restart_changes import job_restart_source_changes
from jobs.services.resume import job_resume
from jobs.states import JobStatus, RowStatus
from shipops.errors import DomainError

CHOICES = "[r]esume, re[s]tart, [c]ancel or [k]eep as it is"
# What each action asks of --user: what the admin and the API ask for the same action.
ACTION_PERMISSIONS = {
    "resume": OPERATE_PERMISSION,
    "cancel": OPERATE_PERMISSION,
    "fetch_labels": OPERATE_PERMISSION,
    "restart": APPROVE_PERMISSION,
    "decide_row": APPROVE_PERMISSION,  # "not shipped" lets the row ship again
}


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
            "--fetch-labels",
            type=int,
            metavar="JOB",
            help="fetch from UPS the labels of the job's shipped rows that have none",
        )
        action.add_argument(
            "--decide-row",
            type=int,
            metavar="ROW_ID",
            help=(
                "settle a row whose outcome is unknown, as the person --user names; recover_jobs "
                "without an action lists such rows with their ROW_ID (not the row number)"
            ),
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
        if options["user"]:  # refused before anything is done, lapsed jobs included
            wanted = [ACTION_PERMISSIONS[name] for name in ACTION_PERMISSIONS if options[name]]
            self.get_user(options["user"], *wanted)
        marked = jobs_mark_lapsed(actor=system_actor("recover_jobs"))
        for job in marked:
            # A lapsed preview goes back to draft, a lapsed batch is interrupted.
            self.stdout.write(
                f"{job} is now {job.get_status_display().lower()}: its worker stopped answering."
            )
        if options["decide_row"]:
            self._decide(options)
        elif options["fetch_labels"]:
            self._fetch_labels(self.get_job(options["fetch_labels"]), options)
        elif options["resume"]:
            self._resume(self.get_job(options["resume"]), options)
        elif options["restart"]:
            self._restart(self.get_job(options["restart"]), options)
        elif options["cancel"]:
            job = job_cancel(
                job=self.get_job(options["cancel"]),
                actor=self.get_actor(options["user"], OPERATE_PERMISSION),
            )
            self.stdout.write(f"Cancelled {job}; {job.shipped_count} shipped rows are kept.")
            self._print_undecided(job, options)
        else:
            self._walk(
                interactive=stdin_is_a_terminal() and not options["no_input"], options=options
            )

    def _walk(self, *, interactive: bool, options: dict[str, Any]) -> None:
        stopped = Job.objects.filter(status__in=[JobStatus.INTERRUPTED, JobStatus.FAILED])
        # A job cancelled while a ship request was out keeps that row unknown until decided.
        cancelled = Job.objects.filter(
            status=JobStatus.CANCELLED, rows__status=RowStatus.UNKNOWN
        ).distinct()
        if not stopped.exists() and not cancelled.exists():
            self.stdout.write("No interrupted or failed jobs.")
            return
        for job in stopped.order_by("pk"):
            summary = job_recovery_summary(job)
            self.stdout.write(self.style.WARNING(summary.headline))
            if summary.last_error:
                self.stdout.write(f"  {summary.last_error}")
            self._print_undecided(job, options)
            refusal = job_restart_refusal(job)
            if refusal is not None:
                self.stdout.write(f"  Restart is not available: {refusal.message}")
            if not interactive:
                continue
            answer = input(f"  {CHOICES}? ").strip().lower()[:1]
            try:
                self._act(job, answer, refusal, options)
            except (CommandError, DomainError) as error:  # said, and the next job is offered
                self.stdout.write(self.style.ERROR(f"  {getattr(error, 'message', error)}"))
        for job in cancelled.order_by("pk"):
            self.stdout.write(
                self.style.WARNING(f"{job} is cancelled; some rows' outcome is unknown.")
            )
            self._print_undecided(job, options)

    def _act(
        self, job: Job, answer: str, refusal: DomainError | None, options: dict[str, Any]
    ) -> None:
        """Do what the person chose for ``job`` at the question."""
        if answer == "r":
            self._resume(job, options)
        elif answer == "s" and refusal is not None:
            self.stdout.write(f"  Kept {job} as it is.")
        elif answer == "s":
            self.get_user(options["user"], APPROVE_PERMISSION)  # before asking about duplicates
            confirmed = self._confirm_restart(job)
            self._restart(job, {**options, "confirm_duplicates": confirmed}, said=True)
        elif answer == "c":
            job_cancel(job=job, actor=self.get_actor(options["user"], OPERATE_PERMISSION))
            self.stdout.write(f"  Cancelled {job}.")

    def _print_undecided(
        self, job: Job, options: dict[str, Any], rows: Sequence[JobRow] | None = None
    ) -> None:
        """List the job's rows of unknown outcome (or ``rows``) with the id --decide-row takes."""
        if rows is None:
            rows = list(job_rows(job_id=job.pk).filter(status=RowStatus.UNKNOWN))
        if not rows:
            return
        self.stdout.write("  Rows of unknown outcome, with the id --decide-row takes:")
        for row in rows:
            self.stdout.write(
                f"    row {row.row_number}, key {row.source_key}, reference {row.reference}: "
                f"--decide-row {row.pk}"
            )
        # Whole commands, with this run's --user: they paste as they are (NUMBER aside).
        # "--user=": a name starting with "-" is not taken for an option.
        user = f" --user={shlex.quote(options['user'] or 'USERNAME')}"
        command = f"manage.py recover_jobs --decide-row {rows[0].pk}"
        who = "" if options["user"] else "; USERNAME: yours, a person with the approve permission"
        self.stdout.write(
            f"  Once you know whether row {rows[0].row_number} shipped, run one of "
            f"(NUMBER: its tracking number{who}):"
        )
        self.stdout.write(f"    {command} --tracking NUMBER{user}")
        self.stdout.write(f"    {command} --not-shipped{user}")

    def _confirm_restart(self, job: Job) -> bool:
        self._say_source_changes(job)
        warning = job_restart_warning(job)
        if not warning:
            return True
        return input(f"  {warning} Type 'duplicate' to go on: ").strip() == "duplicate"

    def _resume(self, job: Job, options: dict[str, Any]) -> None:
        try:
            token = job_resume(
                job=job,
                actor=self.get_actor(options["user"], OPERATE_PERMISSION),
                in_background=not options["foreground"],
            )
        except DomainError as error:
            if error.code == "needs_decision":  # the rows UPS has no shipment for, with their ids
                undecided = job_rows(job_id=job.pk).filter(pk__in=error.details.get("rows", []))
                self._print_undecided(job, options, list(undecided))
            raise
        if options["foreground"]:
            self.print_outcome(self.run_execution(job, token))
        else:
            self.stdout.write(f"Resumed {job}; a cluster worker continues it now.")

    def _say_source_changes(self, job: Job) -> None:
        for notice in job_restart_source_changes(job):
            self.stdout.write(self.style.WARNING(f"  {notice}"))

    def _restart(self, job: Job, options: dict[str, Any], *, said: bool = False) -> None:
        user = self.get_user(options["user"], APPROVE_PERMISSION)
        if not said:
            self._say_source_changes(job)
        new_job = job_restart(
            job=job,
            acting_user=user,
            confirm_duplicates=options["confirm_duplicates"],
            void_first=options["void_first"],
            seen_token=job.fencing_token,  # as listed: a job resumed since is refused as stale
        )
        self.stdout.write(
            f"Cancelled {job} and created {new_job} with its rows "
            f"({new_job.get_status_display().lower()})."
        )

    def _fetch_labels(self, job: Job, options: dict[str, Any]) -> None:
        actor = self.get_actor(options["user"], OPERATE_PERMISSION)
        done, problems = job_fetch_labels(job=job, actor=actor, budget_seconds=None).sentences()
        if done:
            self.stdout.write(done)
        for problem in problems:
            self.stdout.write(self.style.WARNING(problem))
        if problems:  # for cron and scripts: some labels are still missing
            raise SystemExit(1)

    def _decide(self, options: dict[str, Any]) -> None:
        if options["tracking"] != "" and not options["tracking"].strip():
            raise CommandError("--tracking is blank: give the tracking number the parcel has.")
        if bool(options["tracking"]) == options["not_shipped"]:
            raise CommandError("With --decide-row give either --tracking NUMBER or --not-shipped.")
        try:
            row = JobRow.objects.get(pk=options["decide_row"])
        except JobRow.DoesNotExist:
            raise CommandError(f"There is no row {options['decide_row']}.") from None
        # A person's decision, never the command's: "not shipped" lets the row ship again.
        decision = row_decide_unknown(
            row=row,
            actor=self.get_user(options["user"], APPROVE_PERMISSION),
            tracking_number=options["tracking"],
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
