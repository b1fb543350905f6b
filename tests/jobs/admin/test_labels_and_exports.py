"""Labels streamed to staff (one, a merged 4 x 6 PDF, a ZPL bundle) and the results exports."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image, PdfParser

from datasources.models import DataSource
from jobs.models import Job, JobRow
from jobs.states import JobStatus, RowStatus
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.admin.conftest import job_url, job_with_rows, messages_of
from tests.jobs.admin.html import count_of
from tests.jobs.conftest import previewed_job, ship_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver_user: User,
) -> Job:
    return ship_all(previewed_job(orders_csv(3), approver_user), approver_user)


def body(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_each_label_is_streamed_to_staff_only(shipped: Job, approver_client: Client) -> None:
    row = JobRow.objects.get(job=shipped, row_number=1)
    url = reverse("admin:jobs_jobrow_label", args=[row.pk])
    assert url in approver_client.get(job_url(shipped)).text
    response = approver_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert row.tracking_number in response["Content-Disposition"]
    assert Image.open(io.BytesIO(body(response))).size == (800, 1200)
    approver_client.logout()
    assert approver_client.get(url).status_code == 302
    assert not row.label.url.startswith(reverse("admin:index"))
    assert approver_client.get(row.label.url).status_code == 404


def test_labels_pdf_has_one_4x6_page_per_label(shipped: Job, approver_client: Client) -> None:
    page = approver_client.get(job_url(shipped)).text
    assert count_of(page, "download-labels-pdf") == 1
    assert count_of(page, "download-labels-zpl") == 0
    response = approver_client.get(reverse("admin:jobs_job_labels_pdf", args=[shipped.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="job-{shipped.pk}-labels.pdf"' in response["Content-Disposition"]
    pdf = PdfParser.PdfParser(buf=body(response))
    assert len(pdf.pages) == 3
    for ref in pdf.pages:
        assert pdf.read_indirect(ref)[b"MediaBox"] == [0, 0, 4 * 72, 6 * 72]


def test_a_voided_shipments_label_is_not_offered(shipped: Job, approver_client: Client) -> None:
    row = JobRow.objects.get(job=shipped, row_number=2)
    JobRow.objects.filter(pk=row.pk).update(status=RowStatus.VOIDED)  # as a restart voids it

    page = approver_client.get(job_url(shipped)).text
    assert "Download labels (PDF, 2 pages)" in page
    assert reverse("admin:jobs_jobrow_label", args=[row.pk]) not in page
    response = approver_client.get(reverse("admin:jobs_job_labels_pdf", args=[shipped.pk]))
    assert len(PdfParser.PdfParser(buf=body(response)).pages) == 2
    label = approver_client.get(reverse("admin:jobs_jobrow_label", args=[row.pk]))
    assert label.status_code == 404


def test_a_missing_label_file_is_reported_not_skipped(
    shipped: Job, approver_client: Client
) -> None:
    row = JobRow.objects.get(job=shipped, row_number=2)
    default_storage.delete(str(row.label.name))
    response = approver_client.get(reverse("admin:jobs_job_labels_pdf", args=[shipped.pk]))
    assert response["Location"] == job_url(shipped)
    shown = messages_of(approver_client.get(job_url(shipped)))
    assert "The labels PDF could not be made: The label of row 2 is missing from storage." in shown
    label = approver_client.get(reverse("admin:jobs_jobrow_label", args=[row.pk]))
    assert label.status_code == 404


def test_zpl_labels_come_as_one_bundle(approver_client: Client) -> None:
    job = job_with_rows(3, status=JobStatus.COMPLETED)
    for row in JobRow.objects.filter(job=job):
        name = default_storage.save(
            f"labels/job-{job.pk}/{row.reference}.zpl",
            ContentFile(f"^XA^FDrow {row.row_number}^FS^XZ".encode()),
        )
        JobRow.objects.filter(pk=row.pk).update(
            label=name,
            label_format="ZPL",
            status=RowStatus.SHIPPED,
            tracking_number=f"1Z999AA1012345678{row.row_number}",
        )
    page = approver_client.get(job_url(job)).text
    assert count_of(page, "download-labels-zpl") == 1
    assert count_of(page, "download-labels-pdf") == 0
    response = approver_client.get(reverse("admin:jobs_job_labels_zpl", args=[job.pk]))
    assert body(response) == b"^XA^FDrow 1^FS^XZ\n^XA^FDrow 2^FS^XZ\n^XA^FDrow 3^FS^XZ\n"
    no_gif = approver_client.get(reverse("admin:jobs_job_labels_pdf", args=[job.pk]))
    assert no_gif.status_code == 302


def test_results_export_as_csv(shipped: Job, approver_client: Client) -> None:
    JobRow.objects.filter(job=shipped, row_number=2).update(actual_cost_cents=2030)
    JobRow.objects.filter(job=shipped, row_number=3).update(status=RowStatus.VOIDED)
    response = approver_client.get(reverse("admin:jobs_job_export_csv", args=[shipped.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = body(response)
    assert content.startswith(codecs.BOM_UTF8)  # Excel reads it as UTF-8
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert lines[0] == [
        "row_number", "key", "recipient", "status", "tracking_number", "cost", "estimated_cost",
        "shipped_at", "error",
    ]  # fmt: skip
    first = JobRow.objects.get(job=shipped, row_number=1)
    number, key, recipient, status, tracking, cost, estimate, shipped_at, error = lines[1]
    assert (number, key, recipient, status) == ("1", "SO-00001", "Customer 1", "shipped")
    assert tracking == first.tracking_number
    assert first.actual_cost_cents is not None
    assert first.shipped_at is not None
    assert cost == f"{first.actual_cost_cents / 100:.2f}"
    assert first.estimated_cost_cents is not None
    assert estimate == f"{first.estimated_cost_cents / 100:.2f}"
    assert datetime.fromisoformat(shipped_at) == first.shipped_at.replace(microsecond=0)
    assert shipped_at.endswith("+00:00")
    assert error == ""
    assert lines[2][5] == "20.30"  # two decimals, as money is written
    assert (lines[3][3], lines[3][5]) == ("voided", "")  # UPS does not charge a void
    assert len(lines) == 4


def test_the_export_says_a_row_with_errors_has_errors(approver_client: Client) -> None:
    job = job_with_rows(2, status=JobStatus.PREVIEWED)
    errors = [{"column": "zip", "field": "postal_code", "message": "Bad zip."}]
    JobRow.objects.filter(job=job, row_number=2).update(
        shipment={}, is_valid=False, errors=errors, estimated_cost_cents=None
    )

    content = body(approver_client.get(reverse("admin:jobs_job_export_csv", args=[job.pk])))

    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [(line[0], line[3], line[8]) for line in lines[1:]] == [
        ("1", "pending", ""),
        ("2", "has_errors", "Bad zip."),
    ]


def test_exports_never_write_formulas(approver_client: Client) -> None:
    job = job_with_rows(1, status=JobStatus.FAILED)
    JobRow.objects.filter(job=job).update(
        shipment={"recipient_name": "=HYPERLINK(1)"},
        status=RowStatus.FAILED,
        error_message="UPS refused the address.",
    )
    text = body(approver_client.get(reverse("admin:jobs_job_export_csv", args=[job.pk])))
    assert b"'=HYPERLINK(1)" in text
    assert b"UPS refused the address." in text
    xlsx = approver_client.get(reverse("admin:jobs_job_export_xlsx", args=[job.pk]))
    sheet = load_workbook(io.BytesIO(body(xlsx))).active
    cell = sheet.cell(row=2, column=3)
    assert (cell.value, cell.data_type) == ("=HYPERLINK(1)", "s")


def test_results_export_as_xlsx(shipped: Job, approver_client: Client) -> None:
    response = approver_client.get(reverse("admin:jobs_job_export_xlsx", args=[shipped.pk]))
    assert f'filename="job-{shipped.pk}-results.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(body(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("row_number", "key", "recipient", "status")
    first = JobRow.objects.get(job=shipped, row_number=1)
    assert rows[1][4] == first.tracking_number
    assert rows[1][5] == pytest.approx((first.actual_cost_cents or 0) / 100)
    assert sheet.cell(row=2, column=6).number_format == "0.00"
    assert len(rows) == 4
