"""Labels for staff only: never public media files, always streamed by these views."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from functools import partial
from typing import IO, TYPE_CHECKING

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from PIL import UnidentifiedImageError

from jobs.admin.common import job_url
from jobs.admin.pdf import write_label_pdf
from jobs.admin.views import get_job
from jobs.models import Job, JobRow
from jobs.shipping import LABEL_EXTENSIONS
from jobs.states import RowStatus

if TYPE_CHECKING:
    from jobs.admin.job_admin import JobAdmin

CONTENT_TYPES = {"GIF": "image/gif", "PNG": "image/png", "ZPL": "text/plain; charset=utf-8"}


class LabelMissing(Exception):
    """A row's label file is not in storage (or is not an image)."""


def row_label_view(
    rowadmin: admin.ModelAdmin[JobRow], request: HttpRequest, object_id: int
) -> HttpResponseBase:
    """Stream one row's label as UPS sent it (GIF, ZPL)."""
    if not rowadmin.has_view_permission(request):
        raise PermissionDenied
    row = (
        JobRow.objects.filter(pk=object_id)
        .only("pk", "job_id", "row_number", "label", "label_format", "tracking_number", "status")
        .first()
    )
    if row is None or not row.label:
        raise Http404("This row has no label.")
    if not row.label_usable:  # voided at UPS: a parcel sent with it is not paid for
        raise Http404(f"Row {row.row_number}'s shipment was voided: its label must not be used.")
    try:
        handle = row.label.open("rb")
    except FileNotFoundError:
        raise Http404(f"The label file of row {row.row_number} is missing from storage.") from None
    label_format = row.label_format.upper()
    extension = LABEL_EXTENSIONS.get(label_format, "bin")
    name = f"label-{row.tracking_number or row.pk}.{extension}"
    content_type = CONTENT_TYPES.get(label_format, "application/octet-stream")
    return FileResponse(handle, content_type=content_type, filename=name)


def _label_names(job: Job, label_format: str) -> list[tuple[int, str]]:
    rows = (
        JobRow.objects.filter(job=job, status=RowStatus.SHIPPED, label_format__iexact=label_format)
        .exclude(label="")
        .order_by("row_number")
    )
    return list(rows.values_list("row_number", "label"))


def _opener(number: int, name: str) -> IO[bytes]:
    try:
        return default_storage.open(name, "rb")
    except FileNotFoundError:
        raise LabelMissing(f"The label of row {number} is missing from storage.") from None


def labels_pdf_view(modeladmin: JobAdmin, request: HttpRequest, object_id: int) -> HttpResponseBase:
    """Return every GIF label of the job as one PDF, one 4 x 6 inch page per label."""
    job = get_job(modeladmin, request, object_id)
    names = _label_names(job, "GIF")
    if not names:
        messages.error(request, f"{job} has no GIF labels to print.")
        return HttpResponseRedirect(job_url(job))
    # FileResponse closes the file once it has been sent.
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        write_label_pdf(spool, [partial(_opener, number, name) for number, name in names])
    except (LabelMissing, UnidentifiedImageError, OSError) as error:
        spool.close()
        messages.error(request, f"The labels PDF could not be made: {error}")
        return HttpResponseRedirect(job_url(job))
    spool.seek(0)
    return FileResponse(
        spool,
        content_type="application/pdf",
        as_attachment=True,
        filename=f"job-{job.pk}-labels.pdf",
    )


def _zpl_stream(names: list[tuple[int, str]]) -> Iterator[bytes]:
    for _number, name in names:
        with default_storage.open(name, "rb") as handle:
            content = handle.read()
        yield content if content.endswith(b"\n") else content + b"\n"


def labels_zpl_view(modeladmin: JobAdmin, request: HttpRequest, object_id: int) -> HttpResponseBase:
    """Return every ZPL label of the job as one file to send to a label printer."""
    job = get_job(modeladmin, request, object_id)
    names = _label_names(job, "ZPL")
    missing = [number for number, name in names if not default_storage.exists(name)]
    if not names or missing:
        problem = (
            f"rows {', '.join(map(str, missing[:10]))} have no label file"
            if missing
            else "it has no ZPL labels"
        )
        messages.error(request, f"The ZPL labels of {job} could not be bundled: {problem}.")
        return HttpResponseRedirect(job_url(job))
    response = StreamingHttpResponse(_zpl_stream(names), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-labels.zpl"'
    return response
