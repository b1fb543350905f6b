"""Which action buttons a job's page shows: the actions that fit its status, by permission."""

from __future__ import annotations

from dataclasses import dataclass

from jobs.services.cancel import CANCELLABLE
from jobs.states import JOB_RESUMABLE_STATUSES, JobMode, JobStatus

J = JobStatus
# An interrupted or failed job shows its three choices in the recovery banner, not the bar.
RECOVERABLE = JOB_RESUMABLE_STATUSES
RECOVERY_ACTIONS = frozenset({"resume_jobs", "restart_job", "cancel_jobs"})


@dataclass(frozen=True)
class Button:
    """One change-form action shown as a button."""

    action: str
    label: str
    testid: str
    statuses: frozenset[str]
    danger: bool = False


BUTTONS = [
    Button("preview_jobs", "Preview", "preview", frozenset({J.DRAFT, J.PREVIEWED})),
    Button("approve_jobs", "Approve", "approve", frozenset({J.PREVIEWED})),
    Button(
        "approve_jobs_switch_to_auto",
        "Approve and switch to auto",
        "approve-auto",
        frozenset({J.PREVIEWED}),
    ),
    Button("exclude_invalid_rows", "Exclude rows with errors", "exclude-invalid", frozenset()),
    Button("resume_jobs", "Resume", "resume", RECOVERABLE),
    Button("restart_job", "Restart…", "restart", RECOVERABLE, danger=True),
    Button("cancel_jobs", "Cancel job…", "cancel", CANCELLABLE, danger=True),
    Button("retry_writeback", "Retry write-back", "retry-writeback", frozenset()),
]
# Buttons whose action needs jobs.approve_job: shown disabled to people without it.
APPROVAL_ACTIONS = frozenset({"approve_jobs", "approve_jobs_switch_to_auto", "restart_job"})


@dataclass(frozen=True)
class ShownButton:
    """A button as the template draws it."""

    action: str
    label: str
    testid: str
    danger: bool
    enabled: bool
    refusal: str = ""


def job_buttons(
    *,
    status: str,
    mode: str,
    invalid_pending: bool,
    writeback_failed: bool,
    allowed: set[str],
    refusals: dict[str, str] | None = None,
) -> tuple[list[ShownButton], list[ShownButton]]:
    """Return the action bar's buttons and the recovery banner's buttons for a job.

    ``refusals`` maps an action to why the job cannot take it now, whoever asks:
    that button is drawn disabled, with the reason.
    """
    bar: list[ShownButton] = []
    banner: list[ShownButton] = []
    for button in BUTTONS:
        if not _applies(button, status, mode, invalid_pending, writeback_failed):
            continue
        if button.action not in allowed and button.action not in APPROVAL_ACTIONS:
            continue
        again = button.action == "preview_jobs" and status == J.PREVIEWED
        shown = ShownButton(
            action=button.action,
            label="Preview again" if again else button.label,
            testid=f"action-{button.testid}",
            danger=button.danger,
            enabled=button.action in allowed,
            refusal=(refusals or {}).get(button.action, ""),
        )
        recovery = status in RECOVERABLE and button.action in RECOVERY_ACTIONS
        (banner if recovery else bar).append(shown)
    return bar, banner


def _applies(
    button: Button, status: str, mode: str, invalid_pending: bool, writeback_failed: bool
) -> bool:
    if button.action == "exclude_invalid_rows":
        return invalid_pending and status in (J.DRAFT, J.PREVIEWED)
    if button.action == "retry_writeback":
        return writeback_failed and status in (J.COMPLETED_WITH_WARNINGS, J.FAILED, J.CANCELLED)
    if button.action == "approve_jobs" and status == J.DRAFT:
        # An auto-mode job may be approved without a preview.
        return mode == JobMode.AUTO
    return status in button.statuses
