"""The data source admin: add from an upload or a path, see the rows as a job would, start one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from datasources.models import DataSource
from tests.factories import UserFactory
from tests.fixtures.sources import csv_bytes, order_rows, xlsx_bytes
from tests.jobs.admin.html import table_rows

pytestmark = pytest.mark.django_db
ADD = reverse("admin:datasources_datasource_add")


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(UserFactory.create(is_superuser=True))
    return client


def form(**fields: Any) -> dict[str, Any]:
    """Return the add form's fields, as the browser sends them, with ``fields`` changed."""
    return {
        "name": "Warehouse orders",
        "kind": "csv",
        "file_path": "",
        "sheet_name": "",
        "db_alias": "default",
        "table_name": "",
        "key_column": "order_id",
        "column_mapping": "{}",
        "tracking_column": "tracking_number",
        "shipped_at_column": "shipped_at",
        "default_service_code": "03",
        "default_packaging_code": "02",
        "default_weight_lbs": "",
        "ship_from_override": "{}",
        **fields,
    }


def change_url(source: DataSource) -> str:
    return reverse("admin:datasources_datasource_change", args=[source.pk])


def test_an_upload_is_stored_under_the_source_folder(
    staff_client: Client, source_root: Path
) -> None:
    upload = SimpleUploadedFile("orders.csv", csv_bytes(order_rows(3)), "text/csv")
    response = staff_client.post(ADD, form(upload=upload))
    source = DataSource.objects.get()
    assert response["Location"] == change_url(source)
    assert source.file_path == "orders.csv"
    assert (source_root / "orders.csv").read_bytes() == csv_bytes(order_rows(3))


def test_a_second_upload_of_the_same_name_keeps_both_files(
    staff_client: Client, source_root: Path
) -> None:
    (source_root / "orders.csv").write_bytes(b"order_id\n1\n")
    upload = SimpleUploadedFile("orders.csv", csv_bytes(order_rows(2)), "text/csv")
    staff_client.post(ADD, form(upload=upload))
    assert DataSource.objects.get().file_path == "orders-2.csv"
    assert (source_root / "orders.csv").read_bytes() == b"order_id\n1\n"


def test_an_excel_upload_needs_the_excel_kind(staff_client: Client, source_root: Path) -> None:
    workbook = xlsx_bytes({"Orders": order_rows(2)})
    wrong = staff_client.post(ADD, form(upload=SimpleUploadedFile("orders.xlsx", workbook)))
    assert wrong.status_code == 200
    assert "is an Excel workbook: choose that kind" in wrong.text
    assert not DataSource.objects.exists()
    assert list(source_root.iterdir()) == []
    staff_client.post(ADD, form(kind="excel", upload=SimpleUploadedFile("orders.xlsx", workbook)))
    assert DataSource.objects.get().kind == "excel"


def test_an_upload_that_is_not_what_it_says_is_refused(
    staff_client: Client, source_root: Path
) -> None:
    fake = SimpleUploadedFile("orders.xlsx", b"this is not a workbook")
    response = staff_client.post(ADD, form(kind="excel", upload=fake))
    assert response.status_code == 200
    assert not DataSource.objects.exists()
    assert list(source_root.iterdir()) == []


def test_a_taken_name_stores_no_file(staff_client: Client, source_root: Path) -> None:
    DataSource.objects.create(name="Warehouse orders", kind="csv", file_path="x.csv")
    upload = SimpleUploadedFile("orders.csv", csv_bytes(order_rows(1)))
    response = staff_client.post(ADD, form(upload=upload))
    assert "Data source with this Name already exists." in response.text
    assert list(source_root.iterdir()) == []


def test_a_path_under_the_source_folder_is_accepted(
    staff_client: Client, write_source: Callable[[str, bytes], Path]
) -> None:
    write_source("east/orders.csv", csv_bytes(order_rows(2)))
    response = staff_client.post(ADD, form(file_path="east/orders.csv"))
    assert response.status_code == 302
    assert DataSource.objects.get().file_path == "east/orders.csv"


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("../secrets.csv", "must be relative to the source folder and stay inside it"),
        ("/etc/passwd", "must be relative to the source folder and stay inside it"),
        ("missing.csv", "was not found in the source folder"),
        ("o" * 300 + ".csv", "is longer than the file system allows"),
        ("", "Upload a file, or give the path of one in the source folder."),
    ],
)
def test_bad_paths_are_form_errors(staff_client: Client, path: str, error: str) -> None:
    response = staff_client.post(ADD, form(file_path=path))
    assert response.status_code == 200
    assert error in response.text
    assert not DataSource.objects.exists()


@pytest.mark.parametrize(
    ("mapping", "error"),
    [
        ("{not json", "Enter a valid JSON."),
        ("[1, 2]", "The column mapping must be a JSON object"),
        ('{"Nope": "city"}', "The column mapping names &quot;Nope&quot;"),
        ('{"city": "planet"}', "which is not a shipment field"),
    ],
)
def test_bad_mappings_are_form_errors(
    staff_client: Client,
    write_source: Callable[[str, bytes], Path],
    mapping: str,
    error: str,
) -> None:
    write_source("orders.csv", csv_bytes(order_rows(2)))
    response = staff_client.post(ADD, form(file_path="orders.csv", column_mapping=mapping))
    assert response.status_code == 200
    assert error in response.text
    assert not DataSource.objects.exists()


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ('["1 Depot Rd", "Denver"]', "must be a JSON object of address fields, not a list"),
        ('"Denver warehouse"', "must be a JSON object of address fields, not a string"),
        (
            '{"city": "Denver", "state": "CO", "zip": "80202"}',
            "has an unknown key &quot;zip&quot;; the address fields are name, company, phone, "
            "address_lines, address_line, city, state, postal_code, country.",
        ),
        ('{"city": "Denver", "postal_code": 80202}', "gives &quot;postal_code&quot; as a number"),
        ('{"address_lines": ["1 Depot Rd", 2]}', "with a line that is not a string"),
        ('{"state": "Colorado!"}', "is not a US state"),
        ('{"postal_code": "8020"}', "is not a US ZIP code"),
        ('{"country": "CA", "postal_code": "80202"}', "is not a Canadian postal code"),
        ('{"city": " "}', "&quot;city&quot; is empty"),
    ],
    ids=[
        "list",
        "string",
        "unknown key",
        "number",
        "line not a string",
        "state",
        "zip",
        "postal code of the country",
        "blank city",
    ],
)
def test_a_ship_from_override_that_is_not_an_address_is_a_form_error(
    staff_client: Client, write_source: Callable[[str, bytes], Path], override: str, error: str
) -> None:
    write_source("orders.csv", csv_bytes(order_rows(2)))
    response = staff_client.post(ADD, form(file_path="orders.csv", ship_from_override=override))
    assert response.status_code == 200
    assert error in response.text
    assert not DataSource.objects.exists()


def test_a_ship_from_override_is_saved_checked_and_normalised(
    staff_client: Client, write_source: Callable[[str, bytes], Path]
) -> None:
    write_source("orders.csv", csv_bytes(order_rows(2)))
    override = (
        '{"city": "Denver", "state": "co", "postal_code": "80202 1234",'
        ' "address_lines": ["1 Depot Rd", " Dock  4 "], "phone": "(303) 555-0100"}'
    )
    response = staff_client.post(ADD, form(file_path="orders.csv", ship_from_override=override))
    assert response.status_code == 302
    assert DataSource.objects.get().ship_from_override == {
        "city": "Denver",
        "state": "CO",
        "postal_code": "80202-1234",
        "address_lines": ["1 Depot Rd", "Dock 4"],
        "phone": "3035550100",
    }


def test_a_header_nobody_recognises_is_mapped_by_hand(
    staff_client: Client, write_source: Callable[[str, bytes], Path]
) -> None:
    rows = order_rows(2)
    rows[0] = ["Deliver To" if name == "recipient" else name for name in rows[0]]
    write_source("orders.csv", csv_bytes(rows))
    unmapped = staff_client.post(ADD, form(file_path="orders.csv"))
    assert "has no column for: recipient name" in unmapped.text
    mapped = staff_client.post(
        ADD, form(file_path="orders.csv", column_mapping='{"Deliver To": "recipient_name"}')
    )
    source = DataSource.objects.get()
    page = staff_client.get(mapped["Location"]).text
    assert 'data-column="Deliver To" data-field="recipient_name"' in page
    assert "Mapped" in page
    assert source.column_mapping == {"Deliver To": "recipient_name"}


def test_the_page_shows_sample_rows_mapping_and_validation_summary(
    staff_client: Client, write_source: Callable[[str, bytes], Path]
) -> None:
    rows = [[*order_rows(0)[0], "tracking_number"]]
    rows += [[*cells, ""] for cells in order_rows(14)[1:]]
    rows[3][2] = ""  # row 3 has no address
    rows[5][-1] = "1Z999AA10123456784"  # row 5 already shipped
    rows[5][3] = ""  # and has no city: no job takes it, so no problem to list
    write_source("orders.csv", csv_bytes(rows))
    source = DataSource.objects.create(
        name="Orders", kind="csv", file_path="orders.csv", key_column="order_id"
    )
    page = staff_client.get(change_url(source)).text
    assert "first address line (1 row)." in page  # the only problem a job would meet
    assert 'data-testid="summary-rows">14<' in page
    assert 'data-testid="summary-valid">12<' in page  # ready, errors, shipped: each row once
    assert 'data-testid="summary-invalid" class="error-text">1<' in page
    assert 'data-testid="summary-already-shipped">1<' in page
    assert page.count('data-testid="sample-row"') == 10
    assert "Column &quot;address1&quot; is empty" in page
    assert 'data-column="zip" data-field="postal_code"' in page
    assert 'data-testid="mapping-writeback" data-column="tracking_number"' in page


def test_sample_rows_with_and_without_errors_read_alike(
    staff_client: Client, write_source: Callable[[str, bytes], Path]
) -> None:
    rows = order_rows(3)
    for cells in rows[1:]:
        cells[3:9] = [" atlanta ", "ga", "30303", "US", "1.2 kg", "2nd day air"]
    rows[2][2] = ""  # row 2 has no address
    rows[3][5] = "3030"  # row 3's ZIP code is too short
    rows[3][7:9] = ["heavy", "Teleport"]  # ... and so are its weight and service wrong
    write_source("orders.csv", csv_bytes(rows))
    source = DataSource.objects.create(
        name="Orders", kind="csv", file_path="orders.csv", key_column="order_id"
    )

    sample = table_rows(staff_client.get(change_url(source)).text, 'data-testid="sample-table"')

    read = [row[:6] for row in sample]
    assert read == [
        ["1", "SO-00001", "Customer 1", "atlanta, GA", "UPS 2nd Day Air", "2.7 lb"],
        ["2", "SO-00002", "Customer 2", "atlanta, GA", "UPS 2nd Day Air", "2.7 lb"],
        ["3", "SO-00003", "Customer 3", "atlanta, GA", "—", "—"],
    ]
    assert sample[0][6] == ""
    assert 'Column "address1" is empty' in sample[1][6]
    assert '"heavy"' in sample[2][6]
    assert '"Teleport" is not a UPS service' in sample[2][6]


def test_an_unreadable_source_says_why_on_its_page(staff_client: Client) -> None:
    source = DataSource.objects.create(name="Gone", kind="csv", file_path="gone.csv")
    page = staff_client.get(change_url(source)).text
    assert 'data-testid="source-problem"' in page
    assert "gone.csv" in page


def test_a_database_source_needs_an_existing_table(
    staff_client: Client, orders_table: Callable[..., DataSource]
) -> None:
    orders_table(2)
    missing = staff_client.post(ADD, form(kind="database", table_name="no_such_table"))
    assert missing.status_code == 200
    assert not DataSource.objects.exists()
    staff_client.post(ADD, form(kind="database", table_name="shop_orders"))
    assert DataSource.objects.get().table_name == "shop_orders"


def test_create_job_opens_the_job_form_with_the_source(
    staff_client: Client, write_source: Callable[[str, bytes], Path]
) -> None:
    write_source("orders.csv", csv_bytes(order_rows(2)))
    source = DataSource.objects.create(name="Orders", kind="csv", file_path="orders.csv")
    create = f"{reverse('admin:jobs_job_add')}?data_source={source.pk}"
    assert f'href="{create}" data-testid="create-job"' in staff_client.get(change_url(source)).text
    response = staff_client.post(
        reverse("admin:datasources_datasource_changelist"),
        {"action": "create_job", "_selected_action": [str(source.pk)], "index": "0"},
    )
    assert response["Location"] == create


def test_data_source_pages_refuse_anonymous(client: Client) -> None:
    source = DataSource.objects.create(name="Orders", kind="csv", file_path="orders.csv")
    for url in (ADD, change_url(source)):
        assert client.get(url)["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"tracking_column": "order_id"}, "is the key column"),
        ({"tracking_column": "tn", "shipped_at_column": "tn"}, "each needs a column of its own"),
        ({"shipped_at_column": "city"}, "holds each shipment&#x27;s city"),
        ({"default_service_code": "ZZ"}, "&quot;ZZ&quot; is not a UPS service"),
        ({"default_packaging_code": "99"}, "&quot;99&quot; is not a UPS packaging type"),
        ({"default_weight_lbs": "0"}, "0 lb must be more than 0"),
        ({"default_weight_lbs": "151"}, "151 lb is more than 150 lb"),
    ],
    ids=["tracking is key", "same write-back", "over a field", "service", "packaging", "0", "151"],
)
def test_settings_that_would_destroy_data_or_never_ship_are_refused_and_nothing_is_kept(
    staff_client: Client, source_root: Path, fields: dict[str, str], error: str
) -> None:
    upload = SimpleUploadedFile("orders.csv", csv_bytes(order_rows(2)), "text/csv")

    response = staff_client.post(ADD, form(upload=upload, **fields))

    assert response.status_code == 200
    assert error in response.text
    assert not DataSource.objects.exists()
    assert list(source_root.iterdir()) == []  # the upload is not kept either


def test_a_refused_upload_is_not_kept_and_is_named_as_uploaded(
    staff_client: Client, source_root: Path
) -> None:
    no_city = [[cell for n, cell in enumerate(row) if n != 3] for row in order_rows(2)]

    for _attempt in range(2):
        upload = SimpleUploadedFile("nocity.csv", csv_bytes(no_city), "text/csv")
        response = staff_client.post(ADD, form(upload=upload))
        assert "&quot;nocity.csv&quot; has no column for: city" in response.text

    assert list(source_root.iterdir()) == []
    # The form shown again does not name a file that is no longer there.
    assert '<input type="text" name="file_path" class="vTextField"' in response.text
    assert 'name="file_path" value=' not in response.text
    upload = SimpleUploadedFile("nocity.csv", csv_bytes(order_rows(2)), "text/csv")
    staff_client.post(ADD, form(upload=upload))
    assert DataSource.objects.get().file_path == "nocity.csv"  # not nocity-3.csv


def test_a_file_that_is_not_a_table_gets_one_error_about_the_file(
    staff_client: Client, source_root: Path
) -> None:
    garbage = SimpleUploadedFile("orders.csv", bytes(range(256)) * 8, "text/csv")

    response = staff_client.post(ADD, form(upload=garbage))

    assert response.status_code == 200
    assert "contains binary data; it is not a CSV text file." in response.text
    assert "A file source needs a file path" not in response.text
    assert list(source_root.iterdir()) == []
