"""Who may do what with jobs: the Django permissions the admin and the JSON API both check."""

from __future__ import annotations

# Buy labels: approve, restart, create in auto mode, settle a row whose outcome is unknown.
APPROVE_PERMISSION = "jobs.approve_job"
# Work a job: preview, resume, cancel, exclude rows, retry the write-back, fetch labels.
OPERATE_PERMISSION = "jobs.change_job"
# Read a data source into a new (confirm-mode) job.
CREATE_PERMISSION = "jobs.add_job"

REFUSALS = {
    APPROVE_PERMISSION: (
        "You may not approve jobs: ask an administrator for the “approve job” permission."
    ),
    OPERATE_PERMISSION: (
        "You may not preview, resume, cancel or otherwise work on jobs: ask an administrator "
        "for the “change job” permission."
    ),
    CREATE_PERMISSION: (
        "You may not create jobs: ask an administrator for the “add job” permission."
    ),
}
