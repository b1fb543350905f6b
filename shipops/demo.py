"""Demo data: realistic US orders as a CSV file, an Excel workbook and a database table.

A few recipients are homes (UPS adds a residential surcharge, so the preview
warns), and one address is refused by the sandbox when it is shipped
(``DEMO_REJECTED_LINE``), so a newcomer sees a batch stop at its first error.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import Workbook

DEMO_REJECTED_LINE = "1 Nowhere Ln"
DEMO_TABLE = "demo_orders"
HEADERS = ["order_id", "ship_to_name", "company", "address1", "city", "state", "zip", "phone",
           "weight_lbs", "service"]  # fmt: skip

PLACES = [
    ("Atlanta", "GA", "30303"), ("Austin", "TX", "78701"), ("Boston", "MA", "02110"),
    ("Chicago", "IL", "60606"), ("Denver", "CO", "80202"), ("Seattle", "WA", "98101"),
    ("Portland", "OR", "97204"), ("Phoenix", "AZ", "85004"), ("Nashville", "TN", "37203"),
    ("Columbus", "OH", "43215"), ("Raleigh", "NC", "27601"), ("Minneapolis", "MN", "55402"),
    ("Salt Lake City", "UT", "84111"), ("Miami", "FL", "33131"), ("San Diego", "CA", "92101"),
    ("Kansas City", "MO", "64105"), ("Pittsburgh", "PA", "15222"), ("Madison", "WI", "53703"),
]  # fmt: skip
COMPANIES = ["Acme Supply Inc", "Bluebird Goods LLC", "Cedar & Co Inc", "Delta Parts Corp",
             "Evergreen Outfitters LLC", "Fieldstone Labs Inc"]  # fmt: skip
PEOPLE = ["Maria Garcia", "James Smith", "Aisha Khan", "Wei Chen", "Olivia Brown", "Noah Davis",
          "Sofia Rossi", "Liam O'Connor", "Emma Wilson", "Lucas Martin"]  # fmt: skip
STREETS = ["Main St", "Market St", "Commerce Blvd", "Industrial Pkwy", "Oak Ave", "Elm St"]
SERVICES = ["Ground", "UPS Ground", "2nd Day Air", "03", "Next Day Air", "3 Day Select"]
# Rows that ship to a home (a residential warning in the preview).
HOME_ROWS = {4, 11, 17}


@dataclass(frozen=True)
class DemoSet:
    prefix: str
    rows: int
    rejected_row: int | None = None


CSV_SET = DemoSet("CSV", 60, rejected_row=37)
EXCEL_SET = DemoSet("XLS", 25)
TABLE_SET = DemoSet("DB", 15)


def demo_rows(demo: DemoSet) -> list[list[str]]:
    """Return ``demo.rows`` orders as lists of cells in HEADERS order."""
    rows = []
    for n in range(1, demo.rows + 1):
        city, state, postal_code = PLACES[n % len(PLACES)]
        person = PEOPLE[n % len(PEOPLE)]
        home = n in HOME_ROWS
        street = f"{100 + 7 * n} {STREETS[n % len(STREETS)]}"
        line = street if home else f"{street} Suite {100 + n}"
        if n == demo.rejected_row:
            line = DEMO_REJECTED_LINE
        rows.append(
            [
                f"{demo.prefix}-{1000 + n}",
                person,
                "" if home else COMPANIES[n % len(COMPANIES)],
                line,
                city,
                state,
                postal_code,
                f"555-01{n:02d}-{1000 + n}"[:12],
                f"{1 + (n * 37 % 230) / 10:.1f}",
                SERVICES[n % len(SERVICES)],
            ]
        )
    return rows


def demo_csv() -> bytes:
    """Return the demo CSV file (UTF-8, comma, CRLF as spreadsheets export it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(demo_rows(CSV_SET))
    return out.getvalue().encode()


def demo_workbook() -> bytes:
    """Return the demo workbook: an Orders sheet and a Notes sheet the adapter leaves alone."""
    workbook = Workbook()
    orders = workbook.active
    orders.title = "Orders"
    orders.append(HEADERS)
    for row in demo_rows(EXCEL_SET):
        orders.append([float(cell) if index == 8 else cell for index, cell in enumerate(row)])
    orders.column_dimensions["B"].width = 22
    notes = workbook.create_sheet("Notes")
    notes.append(["Demo workbook for ShipOps: tracking numbers are written into Orders."])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
