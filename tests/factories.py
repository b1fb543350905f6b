"""factory-boy factories for every model (STYLE.md item 11)."""

from __future__ import annotations

import hashlib

import factory
from django.contrib.auth.models import Permission, User

from datasources.models import DataSource, SourceKind
from jobs.models import AuditEntry, Job, JobRow
from jobs.states import JobStatus, RowStatus


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"operator{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")
    approver = factory.PostGeneration(lambda user, create, extracted, **kw: _grant(user, extracted))


def _grant(user: User, approver: bool | None) -> None:
    """Give the user job permissions as asked, then save the hashed password.

    ``approver=False``: an operator, who may create and work on jobs
    (``jobs.add_job``, ``jobs.change_job``); ``approver=True``: an operator who
    may also approve (``jobs.approve_job``); left out: none (staff whom the admin
    and the API show no job: they lack ``jobs.view_job``).
    """
    codenames = [] if approver is None else ["add_job", "change_job"]
    if approver:
        codenames.append("approve_job")
    wanted = Permission.objects.filter(content_type__app_label="jobs", codename__in=codenames)
    user.user_permissions.add(*wanted)
    user.save()


class DataSourceFactory(factory.django.DjangoModelFactory[DataSource]):
    class Meta:
        model = DataSource

    name = factory.Sequence(lambda n: f"Orders {n}")
    kind = SourceKind.CSV
    file_path = factory.Sequence(lambda n: f"orders-{n}.csv")


class DatabaseSourceFactory(DataSourceFactory):
    kind = SourceKind.DATABASE
    file_path = factory.Sequence(lambda n: "")
    db_alias = "default"
    table_name = "orders"
    key_column = "order_id"


class JobFactory(factory.django.DjangoModelFactory[Job]):
    class Meta:
        model = Job

    data_source = factory.SubFactory(DataSourceFactory)
    # As job_create sets it: the keys of its rows name the source's key column.
    key_column = factory.LazyAttribute(lambda job: job.data_source.key_column.strip())
    status = JobStatus.DRAFT
    created_by = factory.SubFactory(UserFactory)


def sample_shipment(n: int) -> dict[str, object]:
    return {
        "recipient_name": f"Customer {n}",
        "address_lines": [f"{100 + n} Main St"],
        "city": "Atlanta",
        "state": "GA",
        "postal_code": "30303",
        "country": "US",
        "weight_lbs": "2.5",
        "service_code": "03",
        "reference": f"ORDER-{n}",
    }


class JobRowFactory(factory.django.DjangoModelFactory[JobRow]):
    class Meta:
        model = JobRow

    job = factory.SubFactory(JobFactory)
    row_number = factory.Sequence(lambda n: n + 1)
    source_key = factory.LazyAttribute(lambda row: str(row.row_number))
    source_checksum = factory.LazyAttribute(
        lambda row: hashlib.sha256(row.source_key.encode()).hexdigest()
    )
    shipment = factory.LazyAttribute(lambda row: sample_shipment(row.row_number))
    status = RowStatus.PENDING
    reference = factory.Sequence(lambda n: f"SO-T{n:08d}")


class ShippedJobRowFactory(JobRowFactory):
    status = RowStatus.SHIPPED
    tracking_number = "1Z999AA10123456784"
    shipment_id = "1Z999AA10123456784"
    actual_cost_cents = 1234


class AuditEntryFactory(factory.django.DjangoModelFactory[AuditEntry]):
    class Meta:
        model = AuditEntry

    job = factory.SubFactory(JobFactory)
    actor_label = "test"
    action = "note"
    message = "A test entry."
