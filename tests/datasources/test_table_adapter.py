"""Database tables on SQLite and PostgreSQL: checked names, one UPDATE per flush, transactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from datasources.adapters import SourceAdapter, WriteBack, get_adapter
from datasources.adapters.db_table import TableAdapter
from datasources.errors import SourceError
from datasources.mapping import read_shipments
from datasources.models import DataSource
from tests.factories import DatabaseSourceFactory
from tests.fixtures.sources import create_orders_table, order_rows

SHIPPED_AT = dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.UTC)
TRACKING = "1Z999AA10123456784"
MakeTable = Callable[..., DataSource]


def _update(key: str, tracking: str = TRACKING) -> WriteBack:
    return WriteBack(key, tracking, SHIPPED_AT)


def _tracking(alias: str = "default", table: str = "shop_orders") -> dict[str, tuple[Any, Any]]:
    with connections[alias].cursor() as cursor:
        query = f"SELECT order_id, tracking_number, shipped_at FROM {table} ORDER BY order_id"  # noqa: S608
        cursor.execute(query)
        return {key: (tracking, shipped_at) for key, tracking, shipped_at in cursor.fetchall()}


def test_reads_rows_in_key_order_and_maps_them(orders_table: MakeTable) -> None:
    source = orders_table(3)
    adapter = TableAdapter(source)

    rows = list(adapter.iter_rows())
    mapped = list(read_shipments(source))

    assert [row.key for row in rows] == ["SO-00001", "SO-00002", "SO-00003"]
    assert rows[0].values["weight"] == "2.5"
    assert all(row.is_valid for row in mapped)
    assert mapped[0].shipment is not None
    assert mapped[0].shipment.reference == "SO-00001"


def test_write_back_is_one_update_statement(orders_table: MakeTable) -> None:
    adapter = TableAdapter(orders_table(3))
    checksums = adapter.current_checksums(["SO-00001", "SO-00002", "SO-00003"])

    with CaptureQueriesContext(connection) as queries:
        adapter.write_back([_update("SO-00001"), _update("SO-00003", "1Z999AA10123456795")])

    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    stored = _tracking()
    assert stored["SO-00001"][0] == TRACKING
    assert stored["SO-00003"][0] == "1Z999AA10123456795"
    assert stored["SO-00002"] == (None, None)
    [row] = [row for row in adapter.iter_rows() if row.key == "SO-00001"]
    assert dt.datetime.fromisoformat(row.values["shipped_at"]).replace(tzinfo=dt.UTC) == SHIPPED_AT
    assert adapter.existing_tracking(row.values) == TRACKING
    assert adapter.current_checksums(checksums) == checksums


def test_write_back_joins_the_callers_transaction(orders_table: MakeTable) -> None:
    adapter = TableAdapter(orders_table(2))

    with transaction.atomic():
        adapter.write_back([_update("SO-00001")])
        assert _tracking()["SO-00001"][0] == TRACKING
        transaction.set_rollback(True)

    assert _tracking()["SO-00001"] == (None, None)


def test_checksums_are_read_with_one_query(orders_table: MakeTable) -> None:
    adapter = TableAdapter(orders_table(3))
    adapter.check_write_back()  # loads the schema before counting

    with CaptureQueriesContext(connection) as queries:
        checksums = adapter.current_checksums(["SO-00002", "SO-00404"])

    assert list(checksums) == ["SO-00002"]
    assert len(queries.captured_queries) == 1


def test_missing_rows_write_nothing(orders_table: MakeTable) -> None:
    adapter = TableAdapter(orders_table(2))

    with pytest.raises(SourceError) as raised:
        adapter.write_back([_update("SO-00001"), _update("SO-00404")])

    assert raised.value.code == "writeback_rows_missing"
    assert raised.value.details["missing_keys"] == ["SO-00404"]
    assert _tracking()["SO-00001"] == (None, None)


def test_a_database_error_writes_nothing_and_leaves_the_transaction_usable(
    orders_table: MakeTable,
) -> None:
    adapter = TableAdapter(orders_table(2))
    with connection.cursor() as cursor:
        cursor.execute("CREATE UNIQUE INDEX shop_orders_tracking ON shop_orders (tracking_number)")

    with pytest.raises(SourceError) as raised:
        adapter.write_back([_update("SO-00001"), _update("SO-00002")])

    assert raised.value.code == "database_write_failed"
    assert "shop_orders" in raised.value.message
    assert _tracking() == {"SO-00001": (None, None), "SO-00002": (None, None)}


def test_integer_primary_key_and_text_ship_time(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE shop_parcels (id integer PRIMARY KEY, recipient varchar(50), "
            "tracking_number varchar(35), shipped_at varchar(40))"
        )
        cursor.execute(
            "INSERT INTO shop_parcels VALUES (7, 'Ann', NULL, NULL), (9, 'Bo', NULL, NULL)"
        )
    adapter = TableAdapter(DatabaseSourceFactory.build(table_name="shop_parcels", key_column=""))

    assert [row.key for row in adapter.iter_rows()] == ["7", "9"]
    assert list(adapter.current_checksums(["9", "x"])) == ["9"]
    adapter.write_back([_update("9")])

    with connection.cursor() as cursor:
        cursor.execute("SELECT tracking_number, shipped_at FROM shop_parcels WHERE id = 9")
        assert cursor.fetchone() == (TRACKING, "2024-05-01T14:30:00+00:00")
    with pytest.raises(SourceError, match='no longer has the rows "x"'):
        adapter.write_back([_update("x")])


def _read_and_check(adapter: SourceAdapter) -> None:
    """Read every row, then check that a write-back could work."""
    list(adapter.iter_rows())
    adapter.check_write_back()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"table_name": "shop_nothing"}, "table_missing"),
        ({"table_name": "jobs_job"}, "table_internal"),
        ({"db_alias": "warehouse"}, "database_alias_missing"),
        ({"key_column": "order_number"}, "key_column_missing"),
        ({"tracking_column": "tracking"}, "writeback_column_missing"),
        ({"shipped_at_column": "recipient_name_x"}, "writeback_column_missing"),
    ],
)
def test_names_are_checked_against_the_database(
    orders_table: MakeTable, fields: dict[str, str], code: str
) -> None:
    source = orders_table(1)
    for name, value in fields.items():
        setattr(source, name, value)
    adapter = get_adapter(source)

    with pytest.raises(SourceError) as raised:
        _read_and_check(adapter)

    assert raised.value.code == code
    assert raised.value.message.endswith(".")


def test_a_second_alias_round_trips(sqlite_alias: str) -> None:
    create_orders_table(sqlite_alias, "shop_orders", order_rows(2)[1:])
    adapter = TableAdapter(
        DatabaseSourceFactory.build(db_alias=sqlite_alias, table_name="shop_orders")
    )

    adapter.write_back([_update("SO-00002")])

    assert adapter.display == f"{sqlite_alias}:shop_orders"
    assert _tracking(sqlite_alias)["SO-00002"][0] == TRACKING
    assert [row.values["tracking_number"] for row in adapter.iter_rows()] == ["", TRACKING]


def test_a_blank_key_column_is_the_primary_key_however_it_is_named(
    orders_table: MakeTable,
) -> None:
    adapter = TableAdapter(orders_table(2, key_column=""))

    assert adapter.key_identity("") == adapter.key_identity("Order ID")
    adapter.check_keys("order_id")  # the same column: nothing to refuse
    with pytest.raises(SourceError) as refused:
        adapter.check_keys("recipient")
    assert refused.value.code == "writeback_key_changed"
    assert 'changed since these rows were read (from "recipient" to the primary key ' in (
        refused.value.message
    )


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("SO-00002 ", "'SO-00002 '"), (" SO-00002", "' SO-00002'")],
    ids=["space after", "space before"],
)
def test_a_key_its_text_cannot_find_again_refuses_the_table(
    orders_table: MakeTable, stored: str, shown: str
) -> None:
    source = orders_table(3)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_orders SET order_id = %s WHERE order_id = 'SO-00002'", [stored])

    with pytest.raises(SourceError) as refused:
        list(TableAdapter(source).iter_rows())

    assert refused.value.code == "key_not_found_again"
    assert (
        f'of "default:shop_orders" has {shown} in the key column "order_id"; ShipOps keeps keys '
        'as text ("SO-00002") and could not find that row again by it'
    ) in refused.value.message


def test_a_real_number_key_refuses_the_table(sqlite_alias: str) -> None:
    with connections[sqlite_alias].cursor() as cursor:
        cursor.execute("CREATE TABLE parcels (ref REAL PRIMARY KEY, recipient text, city text)")
        cursor.execute("INSERT INTO parcels VALUES (0.30000000000000004, 'Jane', 'Atlanta')")
    source = DatabaseSourceFactory.build(
        table_name="parcels", db_alias=sqlite_alias, key_column="ref"
    )

    with pytest.raises(SourceError, match=r"has 0\.30000000000000004 in the key column") as refused:
        list(TableAdapter(source).iter_rows())
    assert refused.value.code == "key_not_found_again"


def test_a_view_is_refused_as_a_view(sqlite_alias: str) -> None:
    with connections[sqlite_alias].cursor() as cursor:
        cursor.execute("CREATE TABLE parcels (ref text PRIMARY KEY, recipient text)")
        cursor.execute("CREATE VIEW open_parcels AS SELECT * FROM parcels")
    source = DatabaseSourceFactory.build(table_name="open_parcels", db_alias=sqlite_alias)

    with pytest.raises(SourceError) as refused:
        list(TableAdapter(source).iter_rows())

    assert (refused.value.code, refused.value.message) == (
        "table_missing",
        f'"open_parcels" in the database "{sqlite_alias}" is a view: ShipOps writes tracking '
        "numbers back into the rows it reads, so it reads tables only.",
    )


# A key column whose database ignores trailing spaces: PostgreSQL's char(n) pads every
# value ('SO-1      '), SQLite's RTRIM collation compares without them.
PADDED_KEY_COLUMN = {"postgresql": "ref char(10)", "sqlite": "ref text COLLATE RTRIM"}


def test_a_padded_key_that_the_database_matches_is_taken(db: None) -> None:
    with connection.cursor() as cursor:
        column = PADDED_KEY_COLUMN[connection.vendor]
        cursor.execute(f"CREATE TABLE padded ({column} PRIMARY KEY, recipient text)")
        cursor.execute("INSERT INTO padded VALUES ('SO-1      ', 'Jane')")
    adapter = TableAdapter(DatabaseSourceFactory.build(table_name="padded", key_column="ref"))

    [row] = adapter.iter_rows()

    assert row.key == "SO-1"
    assert list(adapter.current_checksums(["SO-1"])) == ["SO-1"]


def test_a_table_without_a_primary_key_asks_for_a_key_column(sqlite_alias: str) -> None:
    with connections[sqlite_alias].cursor() as cursor:
        cursor.execute("CREATE TABLE parcels (ref text, recipient text, city text)")
    source = DatabaseSourceFactory.build(table_name="parcels", db_alias=sqlite_alias, key_column="")

    with pytest.raises(SourceError) as refused:
        list(TableAdapter(source).iter_rows())

    assert refused.value.message == (
        f'The table "{sqlite_alias}:parcels" has no primary key; name a key column on the data '
        "source: a column with a unique value in every row."
    )


def test_keys_the_database_takes_for_one_another_refuse_the_table(sqlite_alias: str) -> None:
    # Found by a walkthrough: "K-1" and "k-1" under a collation that ignores case; the
    # write-back wrote K-1's tracking number into both rows, and k-1's into none.
    with connections[sqlite_alias].cursor() as cursor:
        cursor.execute(
            "CREATE TABLE parcels (ref text COLLATE NOCASE, recipient text, address1 text, "
            "city text, state text, zip text, weight text, tracking_number text, "
            "shipped_at text)"
        )
        for ref in ("K-1", "k-1", "K-2"):
            cursor.execute(
                "INSERT INTO parcels VALUES (%s, 'Jane', '1 Main St', 'Atlanta', 'GA', "
                "'30303', '2', NULL, NULL)",
                [ref],
            )
    source = DatabaseSourceFactory.build(
        table_name="parcels", db_alias=sqlite_alias, key_column="ref"
    )

    with pytest.raises(SourceError) as refused:
        list(TableAdapter(source).iter_rows())

    assert refused.value.code == "duplicate_key"
    assert refused.value.message.startswith(
        f'The key column "ref" of "{sqlite_alias}:parcels" holds keys that the database takes '
        'for one another (its collation ignores case, say), such as "'
    )
