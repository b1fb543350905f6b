"""The ship-from address: a data source's override over the warehouse, refused when broken."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError

from datasources.models import DataSource
from jobs.models import AuditEntry, Job
from jobs.shipping import ship_from_for
from shipops.errors import DomainError
from tests.factories import DataSourceFactory
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.test_commands import run
from ups.client import ship_from_address

pytestmark = pytest.mark.django_db

BROKEN = {
    "list": (["1 Depot Rd", "Denver"], "must be a JSON object of address fields, not a list"),
    "string": ("Denver warehouse", "must be a JSON object of address fields, not a string"),
    "unknown key": ({"city": "Denver", "zip": "80202"}, 'has an unknown key "zip"'),
    "number": ({"postal_code": 80202}, 'gives "postal_code" as a number; it must be a string'),
}


def test_the_override_replaces_only_the_fields_it_gives() -> None:
    source = DataSourceFactory.build(
        ship_from_override={"city": "Denver", "state": "CO", "address_lines": ["1 Depot Rd"]}
    )
    warehouse = ship_from_address()

    address = ship_from_for(source)

    assert (address.city, address.state, address.address_lines) == ("Denver", "CO", ("1 Depot Rd",))
    assert (address.name, address.postal_code) == (warehouse.name, warehouse.postal_code)


@pytest.mark.parametrize(("override", "problem"), BROKEN.values(), ids=BROKEN.keys())
def test_an_override_that_is_not_an_address_is_refused_naming_the_source(
    override: Any, problem: str
) -> None:
    source = DataSourceFactory.build(name="East orders", ship_from_override=override)

    with pytest.raises(DomainError) as raised:
        ship_from_for(source)

    assert raised.value.code == "ship_from_invalid"
    assert raised.value.message.startswith(
        'The ship-from override of data source "East orders" ' + problem
    )


def test_a_preview_of_a_source_with_a_broken_override_goes_back_to_draft_saying_why(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
) -> None:
    source = orders_csv(2)
    # Saved by other means than the admin form, which refuses it.
    DataSource.objects.filter(pk=source.pk).update(ship_from_override=["1 Depot Rd", "Denver"])
    run("create_job", source.name, "--user", "dana")
    job = Job.objects.get()

    with pytest.raises(CommandError, match="must be a JSON object of address fields, not a list"):
        run("preview_job", str(job.pk), "--user", "dana")

    job.refresh_from_db()
    assert job.status == "draft"
    assert job.last_error_code == "ship_from_invalid"
    assert job.last_error_message == (
        'The ship-from override of data source "orders.csv" must be a JSON object of address '
        "fields, not a list. Correct it on the data source's page."
    )
    assert AuditEntry.objects.get(job=job, action="preview_interrupted").message.startswith(
        'The preview stopped: The ship-from override of data source "orders.csv"'
    )


def test_shipping_stops_before_the_first_row_when_the_override_broke_after_the_preview(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
) -> None:
    source = orders_csv(2)
    run("create_job", source.name, "--user", "dana")
    job = Job.objects.get()
    run("preview_job", str(job.pk), "--user", "dana")
    # "zip" is not a field: ignoring it would ship from the warehouse's postal code.
    DataSource.objects.filter(pk=source.pk).update(ship_from_override={"zip": "80202"})

    with pytest.raises(CommandError, match='has an unknown key "zip"'):
        run("approve_job", str(job.pk), "--user", "dana", "--foreground")

    job.refresh_from_db()
    assert (job.status, job.shipped_count) == ("interrupted", 0)
    assert job.last_error_code == "ship_from_invalid"
    assert ups_sandbox.ledger() == []
