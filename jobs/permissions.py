"""Who may do what with jobs: the Django permissions the admin, the JSON API and commands check."""

from __future__ import annotations

from django.contrib.auth.models import User

# See jobs, their rows, previews, progress and recovery (the admin's job pages).
VIEW_PERMISSION = "jobs.view_job"
# Buy labels: approve, restart, create in auto mode, settle a row whose outcome is unknown.
APPROVE_PERMISSION = "jobs.approve_job"
# Work a job: preview, resume, cancel, exclude rows, retry the write-back, fetch labels.
OPERATE_PERMISSION = "jobs.change_job"
# Read a data source into a new (confirm-mode) job.
CREATE_PERMISSION = "jobs.add_job"
# Add a data source (the ship command makes one for a file no source reads yet).
ADD_SOURCE_PERMISSION = "datasources.add_datasource"

REFUSALS = {
    VIEW_PERMISSION: (
        "You may not see jobs or their rows: ask an administrator for the “view job” permission."
    ),
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
    ADD_SOURCE_PERMISSION: (
        "You may not add data sources: ask an administrator for the “add data source” permission."
    ),
}


def may_view_jobs(user: User) -> bool:
    """Return whether ``user`` may see jobs, as the admin decides: "view job" or "change job"."""
    # Django's ModelAdmin.has_view_permission lets "change" imply "view"; the API follows it.
    return user.has_perm(VIEW_PERMISSION) or user.has_perm(OPERATE_PERMISSION)


def lacks(user: User, permissions: tuple[str, ...]) -> str:
    """Return the first of ``permissions`` that ``user`` does not have ("" when none)."""
    return next((name for name in permissions if not user.has_perm(name)), "")
