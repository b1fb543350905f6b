from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q

from jobs.states import JobMode, JobStatus, RowStatus, WritebackStatus
from shipops.errors import DomainError


class Job(models.Model):
    """One batch of shipments from one data source, from preview to the last label."""

    data_source = models.ForeignKey(
        "datasources.DataSource", on_delete=models.PROTECT, related_name="jobs"
    )
    filter = models.JSONField(default=dict, blank=True)
    # What its rows' keys name: the source's key column when the job was created
    # (blank: row numbers of a file, or a table's primary key).
    key_column = models.CharField(max_length=128, blank=True)
    # Made to ship rows again that already have a tracking number (a restart, or asked
    # for): approval then skips no row for having shipped in another job.
    include_already_shipped = models.BooleanField(default=False)
    mode = models.CharField(max_length=16, choices=JobMode.choices, default=JobMode.CONFIRM)
    status = models.CharField(
        max_length=32, choices=JobStatus.choices, default=JobStatus.DRAFT, db_index=True
    )

    row_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    previewed_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    shipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    writeback_failed_count = models.PositiveIntegerField(default=0)
    # Source rows left out because they already hold a tracking number (never JobRows).
    already_shipped_count = models.PositiveIntegerField(default=0)

    # Money is integer cents in the job's one currency.
    currency = models.CharField(max_length=3, default="USD")
    estimated_cost_cents = models.BigIntegerField(default=0)
    actual_cost_cents = models.BigIntegerField(default=0)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    last_error_code = models.CharField(max_length=64, blank=True)
    last_error_message = models.TextField(blank=True)
    # What a person can do about it ("Check the UPS credentials, then resume."): kept
    # apart from the error, since it holds only while the job can still be resumed.
    last_error_advice = models.TextField(blank=True)
    last_error_row = models.ForeignKey(
        "jobs.JobRow", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # The executor's lease: one worker at a time, and a token that every write checks.
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    fencing_token = models.PositiveBigIntegerField(default=0)
    resume_count = models.PositiveIntegerField(default=0)
    # A hash of the admin session that started the job: its mode is locked while it runs.
    session_hash = models.CharField(max_length=64, blank=True, db_index=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_job", "Can approve a job for shipping")]
        indexes = [models.Index(fields=["status", "lease_expires_at"], name="job_status_lease")]
        constraints = [
            models.CheckConstraint(
                name="job_status_valid", condition=Q(status__in=JobStatus.values)
            ),
            models.CheckConstraint(name="job_mode_valid", condition=Q(mode__in=JobMode.values)),
            models.CheckConstraint(
                name="job_costs_non_negative",
                condition=Q(estimated_cost_cents__gte=0, actual_cost_cents__gte=0),
            ),
            models.CheckConstraint(
                name="job_counts_within_rows",
                condition=Q(
                    invalid_count__lte=models.F("row_count"),
                    previewed_count__lte=models.F("row_count"),
                    shipped_count__lte=models.F("row_count"),
                    failed_count__lte=models.F("row_count"),
                    skipped_count__lte=models.F("row_count"),
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk}"


def label_upload_to(row: JobRow, filename: str) -> str:
    return f"labels/job-{row.job_id}/{filename}"


class JobRow(models.Model):
    """One source row of a job: its shipment, its state, and what UPS gave back for it."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    source_key = models.CharField(max_length=255)
    source_checksum = models.CharField(max_length=64)
    shipment = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    # Only for a row with errors (no shipment): what tells people which order it is, as
    # far as the source could be read (datasources.mapping.FieldsAsRead).
    recipient_as_read = models.CharField(max_length=100, blank=True)
    city_as_read = models.CharField(max_length=100, blank=True)
    state_as_read = models.CharField(max_length=5, blank=True)
    service_code_as_read = models.CharField(max_length=3, blank=True)
    # False while ``errors`` is not empty: such a row cannot ship until excluded.
    is_valid = models.BooleanField(default=True)
    warnings = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=RowStatus.choices, default=RowStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Sent to UPS as the package reference: how a lost ship answer is found again.
    reference = models.CharField(max_length=35, unique=True)

    estimated_cost_cents = models.BigIntegerField(null=True, blank=True)
    actual_cost_cents = models.BigIntegerField(null=True, blank=True)
    tracking_number = models.CharField(max_length=35, blank=True, db_index=True)
    shipment_id = models.CharField(max_length=35, blank=True)
    label = models.FileField(upload_to=label_upload_to, blank=True, max_length=300)
    label_format = models.CharField(max_length=8, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    writeback_status = models.CharField(
        max_length=16, choices=WritebackStatus.choices, default=WritebackStatus.PENDING
    )
    writeback_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["job", "row_number"]
        indexes = [
            models.Index(fields=["job", "status", "row_number"], name="row_job_status_number"),
            # The same order in other jobs: by key, or by row number and content.
            models.Index(fields=["source_key", "source_checksum"], name="row_source_key_checksum"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["job", "source_key"], name="row_unique_source_key"),
            models.UniqueConstraint(fields=["job", "row_number"], name="row_unique_number"),
            models.CheckConstraint(
                name="row_status_valid", condition=Q(status__in=RowStatus.values)
            ),
            models.CheckConstraint(
                name="row_writeback_status_valid",
                condition=Q(writeback_status__in=WritebackStatus.values),
            ),
            models.CheckConstraint(
                name="row_shipped_has_tracking",
                condition=~Q(status__in=[RowStatus.SHIPPED, RowStatus.VOIDED])
                | Q(tracking_number__gt=""),
                violation_error_message="A shipped row must have a tracking number.",
            ),
            models.CheckConstraint(
                name="row_costs_non_negative",
                condition=(
                    (Q(estimated_cost_cents__isnull=True) | Q(estimated_cost_cents__gte=0))
                    & (Q(actual_cost_cents__isnull=True) | Q(actual_cost_cents__gte=0))
                ),
            ),
            models.CheckConstraint(name="row_reference_present", condition=Q(reference__gt="")),
        ]

    def __str__(self) -> str:
        return f"Job {self.job_id} row {self.row_number}"

    @property
    def recipient(self) -> str:
        """The shipment's recipient; for a row with errors, the recipient as the source has it."""
        if self.shipment:
            return str(self.shipment.get("recipient_name", ""))
        return self.recipient_as_read

    @property
    def has_errors(self) -> bool:
        """Whether the row waits with errors it cannot ship with: pending until excluded."""
        return self.status == RowStatus.PENDING and not self.is_valid

    @property
    def status_label(self) -> str:
        """The row's status as people read it: "Has errors" for a row that cannot ship as it is."""
        return "Has errors" if self.has_errors else str(self.get_status_display())

    @property
    def city_state(self) -> str:
        """The shipment's "City, ST"; for a row with errors, as far as the source could be read."""
        if self.shipment:
            parts = (self.shipment.get("city"), self.shipment.get("state"))
        else:
            parts = (self.city_as_read, self.state_as_read)
        return ", ".join(str(part) for part in parts if part)

    @property
    def service_code(self) -> str:
        """The shipment's UPS service; for a row with errors, the one it asked for, if known."""
        if self.shipment:
            return str(self.shipment.get("service_code", ""))
        return self.service_code_as_read

    @property
    def label_usable(self) -> bool:
        """Whether the row's label may be printed: it has one, and its shipment was not voided."""
        return bool(self.label) and self.status == RowStatus.SHIPPED


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Audit entries are append-only: bulk updates and deletes are refused."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise DomainError("audit_immutable", "Audit entries cannot be changed.")

    def delete(self) -> NoReturn:
        raise DomainError("audit_immutable", "Audit entries cannot be deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise DomainError("audit_immutable", "Audit entries cannot be changed.")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise DomainError("audit_immutable", "Audit entries cannot be changed.")


class AuditEntry(models.Model):
    """One recorded change: who did what to which job or row, and when. Never edited."""

    job = models.ForeignKey(
        Job, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries"
    )
    row = models.ForeignKey(
        JobRow, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The user's name at the time, or a system label such as "worker host-a:4242".
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=64, db_index=True)
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["job", "created_at"], name="audit_job_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label}: {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise DomainError("audit_immutable", "Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise DomainError("audit_immutable", "Audit entries cannot be deleted.")
