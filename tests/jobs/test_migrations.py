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
