"""The Django admin of jobs, rows and the audit trail; importing the modules registers them."""

from jobs.admin.audit_admin import AuditEntryAdmin
from jobs.admin.job_admin import JobAdmin
from jobs.admin.row_admin import JobRowAdmin

__all__ = ["AuditEntryAdmin", "JobAdmin", "JobRowAdmin"]
