"""Load the demo sources: a CSV file, an Excel workbook and a database table of US orders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from datasources.models import DataSource, SourceKind
from shipops.demo import DEMO_TABLE, HEADERS, TABLE_SET, demo_csv, demo_rows, demo_workbook

TIMESTAMP_TYPES = {"postgresql": "timestamp with time zone", "sqlite": "datetime"}
SOURCES = [
    ("Demo orders (CSV)", SourceKind.CSV, "demo/orders.csv"),
    ("Demo orders (Excel)", SourceKind.EXCEL, "demo/orders.xlsx"),
    ("Demo orders (database table)", SourceKind.DATABASE, ""),
]


class Command(BaseCommand):
    help = "Load demo data sources (development only); existing demo sources are left as they are."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SHIPOPS_ALLOW_DEMO:
            raise CommandError("Demo data is refused here: SHIPOPS_ENV is production.")
        root = Path(settings.SHIPOPS_SOURCE_ROOT)
        files = {"demo/orders.csv": demo_csv, "demo/orders.xlsx": demo_workbook}
        try:
            (root / "demo").mkdir(parents=True, exist_ok=True)
            for relative, build in files.items():
                if not (root / relative).exists():
                    (root / relative).write_bytes(build())
        except OSError as error:
            raise CommandError(
                f"The demo files could not be written under SHIPOPS_SOURCE_ROOT ({root}): "
                f"{error.strerror or error}. It must be a folder ShipOps may write to."
            ) from None
        with transaction.atomic():
            self._table()
            for name, kind, path in SOURCES:
                _, created = DataSource.objects.get_or_create(
                    name=name,
                    defaults={
                        "kind": kind,
                        "file_path": path,
                        "sheet_name": "Orders" if kind == SourceKind.EXCEL else "",
                        "table_name": DEMO_TABLE if kind == SourceKind.DATABASE else "",
                        "key_column": "order_id",
                    },
                )
                verb = "Added" if created else "Kept"
                self.stdout.write(f"{verb} data source: {name}")

    def _table(self) -> None:
        if DEMO_TABLE in connection.introspection.table_names():
            return
        quote = connection.ops.quote_name
        columns = ", ".join(f"{quote(name)} varchar(100)" for name in HEADERS)
        marks = ", ".join(["%s"] * len(HEADERS))
        names = ", ".join(quote(name) for name in HEADERS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE {quote(DEMO_TABLE)} ({columns}, tracking_number varchar(35) NULL, "
                f"shipped_at {TIMESTAMP_TYPES[connection.vendor]} NULL)"
            )
            cursor.executemany(
                f"INSERT INTO {quote(DEMO_TABLE)} ({names}) VALUES ({marks})",  # noqa: S608
                demo_rows(TABLE_SET),
            )
