"""Page through a query set with ``page`` and ``page_size``: two queries whatever its size."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from jobs.api.http import ApiError
from jobs.api.inputs import query_number
from shipops.words import counted

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def paginate[M: Model](
    request: HttpRequest, items: QuerySet[M], serialize: Callable[[M], dict[str, Any]]
) -> dict[str, Any]:
    """Return one page of ``items`` as the API's page body (count, links and results)."""
    number = query_number(request, "page", default=1)
    size = query_number(request, "page_size", default=PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    count = items.count()
    pages = max(1, math.ceil(count / size))
    if number > pages:
        raise ApiError(
            404,
            "page_not_found",
            f"There is no page {number}: {counted(count, 'item')} "
            f"{'makes' if count == 1 else 'make'} {counted(pages, 'page')} of {size}.",
            details={"pages": pages},
        )
    start = (number - 1) * size
    return {
        "count": count,
        "page": number,
        "page_size": size,
        "pages": pages,
        "next": _link(request, number + 1) if number < pages else None,
        "previous": _link(request, number - 1) if number > 1 else None,
        "results": [serialize(item) for item in items[start : start + size]],
    }


def _link(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return f"{request.path}?{query.urlencode()}"
