"""Data migrations, run forward over rows made by the schema before them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_KEY_COLUMN = [("jobs", "0003_recovery_schedule")]


@pytest.fixture
def executor() -> Iterator[MigrationExecutor]:
    """Migrate jobs back to before ``Job.key_column``; forward to the latest afterwards."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE_KEY_COLUMN)
    yield executor
    executor.loader.build_graph()
    executor.migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_jobs_made_before_key_column_get_their_source_key_column(
    executor: MigrationExecutor,
) -> None:
    old = executor.loader.project_state(BEFORE_KEY_COLUMN).apps
    source_model = old.get_model("datasources", "DataSource")
    keyed = source_model.objects.create(
        name="keyed", kind="csv", file_path="a.csv", key_column=" order_id "
    )
    by_number = source_model.objects.create(name="by number", kind="csv", file_path="b.csv")
    job_model = old.get_model("jobs", "Job")
    keyed_job = job_model.objects.create(data_source=keyed)
    numbered_job = job_model.objects.create(data_source=by_number)

    executor.loader.build_graph()
    executor.migrate([("jobs", "0004_job_key_column")])

    new = executor.loader.project_state([("jobs", "0004_job_key_column")]).apps
    job_model = new.get_model("jobs", "Job")
    assert job_model.objects.get(pk=keyed_job.pk).key_column == "order_id"
    assert job_model.objects.get(pk=numbered_job.pk).key_column == ""


BEFORE_ADVICE = [("jobs", "0006_row_recipient_as_read")]
WITH_ADVICE = [("jobs", "0007_job_last_error_advice")]
REFUSED = "Row 4: Address Validation Error on ShipTo address."
DEFINITIVE = (
    "Resume sends the row again as it is. To change it, fix it in the source, then cancel this "
    "job and create a new one from the source: rows already shipped are left out."
)


@pytest.mark.django_db(transaction=True)
def test_advice_stored_at_the_end_of_an_error_is_kept_apart_from_it(
    executor: MigrationExecutor,
) -> None:
    executor.loader.build_graph()
    executor.migrate(BEFORE_ADVICE)
    old = executor.loader.project_state(BEFORE_ADVICE).apps
    source = old.get_model("datasources", "DataSource").objects.create(
        name="orders", kind="csv", file_path="a.csv"
    )
    job_model, row_model = old.get_model("jobs", "Job"), old.get_model("jobs", "JobRow")
    stored = {
        "refused": f"{REFUSED} {DEFINITIVE}",
        "credentials": "Row 6: UPS refused the access token. "
        "Check the UPS credentials, then resume.",
        "busy": "Row 6: UPS is limiting requests. Resume will retry row 6.",
        "unknown": "Row 3: UPS did not answer. UPS may or may not have created the shipment. "
        "Resume will look it up by its reference SO1-3-ABC123 before shipping anything else.",
        "crash": "worker-1 stopped answering (crash, kill or lost task).",
    }
    jobs = {
        name: job_model.objects.create(data_source=source, last_error_message=message)
        for name, message in stored.items()
    }
    row = row_model.objects.create(
        job=jobs["refused"],
        row_number=4,
        source_key="4",
        source_checksum="x",
        reference="SO1-4-ABC123",
        error_message=stored["refused"],
    )

    executor.loader.build_graph()
    executor.migrate(WITH_ADVICE)

    new = executor.loader.project_state(WITH_ADVICE).apps
    job_model, row_model = new.get_model("jobs", "Job"), new.get_model("jobs", "JobRow")
    split = {
        name: tuple(
            job_model.objects.filter(pk=job.pk).values_list(
                "last_error_message", "last_error_advice"
            )[0]
        )
        for name, job in jobs.items()
    }
    assert split == {
        "refused": (REFUSED, DEFINITIVE),
        "credentials": (
            "Row 6: UPS refused the access token.",
            "Check the UPS credentials, then resume.",
        ),
        "busy": ("Row 6: UPS is limiting requests.", ""),
        "unknown": (
            "Row 3: UPS did not answer. UPS may or may not have created the shipment.",
            "",
        ),
        "crash": (stored["crash"], ""),
    }
    assert row_model.objects.get(pk=row.pk).error_message == REFUSED
