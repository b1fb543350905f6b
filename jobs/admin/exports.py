"""A job's results as CSV (streamed) and XLSX (written row by row), a chunk of rows at a time."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from datasources.injection import spreadsheet_text
from jobs.admin.views import get_job
from jobs.models import Job, JobRow
from jobs.selectors import HAS_ERRORS
from jobs.states import RowStatus

if TYPE_CHECKING:
    from jobs.admin.job_admin import JobAdmin

# "status" is the row's status code, "has_errors" for a pending row that cannot ship as it
# is; "cost" is what UPS charged (shipped rows only); the preview's estimate has its own column.
HEADER = [
    "row_number", "key", "recipient", "status", "tracking_number", "cost", "estimated_cost",
    "shipped_at", "error",
]  # fmt: skip
CHUNK = 500
FIELDS = (
    "row_number", "source_key", "shipment", "status", "tracking_number", "actual_cost_cents",
    "estimated_cost_cents", "shipped_at", "error_message", "errors", "is_valid", "writeback_error",
    "recipient_as_read",
)  # fmt: skip


def result_rows(job: Job) -> Iterator[list[Any]]:
    """Yield one export line per row of ``job``, reading the rows a chunk at a time."""
    rows = JobRow.objects.filter(job=job).order_by("row_number").only(*FIELDS)
    for row in rows.iterator(chunk_size=CHUNK):
        error = row.error_message or "; ".join(e.get("message", "") for e in row.errors or [])
        if not error and row.writeback_error:
            error = f"Write-back: {row.writeback_error}"
        yield [
            row.row_number,
            row.source_key,
            row.recipient,
            HAS_ERRORS if row.has_errors else row.status,
            row.tracking_number,
            None if row.status == RowStatus.VOIDED else _money(row.actual_cost_cents),
            _money(row.estimated_cost_cents),
            timezone.localtime(row.shipped_at).isoformat(timespec="seconds")
            if row.shipped_at
            else "",
            error,
        ]


CENT = Decimal("0.01")


def _money(cents: int | None) -> Decimal | None:
    """Cents as an amount with its two decimals: 20.30, never 20.3."""
    return None if cents is None else (Decimal(cents) / 100).quantize(CENT)


class _Echo:
    """A file-like object whose write returns the text, for a streamed csv.writer."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(job: Job) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte order mark tells Excel the file is UTF-8; without it "José" opens as "JosÃ©".
    yield "\ufeff" + writer.writerow(HEADER)
    for line in result_rows(job):
        yield writer.writerow(
            [spreadsheet_text(value) if isinstance(value, str) else value for value in line]
        )


def export_csv_view(modeladmin: JobAdmin, request: HttpRequest, object_id: int) -> HttpResponseBase:
    """Stream the job's results as CSV."""
    job = get_job(modeladmin, request, object_id)
    response = StreamingHttpResponse(_csv_lines(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-results.csv"'
    return response


def export_xlsx_view(
    modeladmin: JobAdmin, request: HttpRequest, object_id: int
) -> HttpResponseBase:
    """Return the job's results as an Excel workbook, written row by row to a temporary file."""
    job = get_job(modeladmin, request, object_id)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"Job {job.pk}")
    sheet.append(HEADER)
    for line in result_rows(job):
        sheet.append([_cell(sheet, value) for value in line])
    # FileResponse closes the file once it has been sent.
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"job-{job.pk}-results.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, Decimal):
        amount = WriteOnlyCell(sheet, value=value)
        amount.number_format = "0.00"  # shown as 20.30, as in the CSV
        return amount
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    # Text stays text: "=..." from a source row is never written as a formula.
    cell.data_type = "s"
    return cell
