"""A data source's location may not change under a job that still reads or writes it."""

from __future__ import annotations

from typing import Any

from jobs.models import Job
from jobs.states import UNDER_WAY

NAMED_JOBS = 5


def refuse_location_change_under_way(
    sender: Any, *, source: Any, fields: list[str], **kwargs: Any
) -> str | None:
    """Refuse a change of where ``source``'s rows are while one of its jobs is under way."""
    jobs = list(
        Job.objects.filter(data_source=source, status__in=UNDER_WAY).order_by("pk")[
            : NAMED_JOBS + 1
        ]
    )
    if not jobs:
        return None
    named = ", ".join(f"{job} ({job.get_status_display().lower()})" for job in jobs[:NAMED_JOBS])
    if len(jobs) > NAMED_JOBS:
        named += " and more"
    labels = ", ".join(str(source._meta.get_field(name).verbose_name) for name in fields)
    one = len(jobs) == 1
    them = "it" if one else "them"
    return (
        f"{named} of this data source {'is' if one else 'are'} not finished. Changing where "
        f"the source's rows are read and written ({labels}) now would make {them} check "
        f"other rows and write tracking numbers elsewhere. Let {them} finish, or cancel "
        f"{them}, first; the other fields can be changed now."
    )
