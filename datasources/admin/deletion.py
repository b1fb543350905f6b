"""Why a data source that jobs were created from cannot be deleted, as its delete pages say it.

A job keeps its data source (``Job.data_source`` protects it): ShipOps keeps
every job, with its rows and audit trail, as the record of what shipped from
where. Django's delete pages would list those jobs as objects the account may
not delete; these sentences say why the source stays and what to do instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from datasources.models import DataSource


class KeptForJobs(list[str]):
    """A delete page's ``protected`` list: one line per source with jobs, and what to say.

    Each line names a source and links to its jobs; ``why`` and ``instead`` are
    the page's sentences. While it is not empty, Django deletes nothing.
    """

    def __init__(self, lines: Iterable[str], *, why: str, instead: str) -> None:
        super().__init__(lines)
        self.why = why
        self.instead = instead


def jobs_keep_sources(sources: Sequence[DataSource] | QuerySet[DataSource]) -> KeptForJobs:
    """Return, of the ``sources`` to delete, those that jobs were created from (one query)."""
    selected = [source.pk for source in sources]
    kept = list(
        DataSource.objects.filter(pk__in=selected)
        .annotate(job_count=Count("jobs"))
        .filter(job_count__gt=0)
        .order_by("name")
        .values_list("pk", "name", "job_count")
    )
    if not kept:
        return KeptForJobs([], why="", instead="")
    jobs_list = reverse("admin:jobs_job_changelist")
    lines = [
        format_html(
            '“{}”: <a href="{}">{}</a>',
            name,
            f"{jobs_list}?{urlencode({'data_source__id__exact': pk})}",
            f"{count} job" if count == 1 else f"{count} jobs",
        )
        for pk, name, count in kept
    ]
    if len(selected) == 1:
        refused = f"The data source “{kept[0][1]}” cannot be deleted: jobs were created from it"
    elif len(kept) == len(selected):
        refused = (
            f"None of the {len(selected)} selected data sources can be deleted: jobs were "
            "created from each of them"
        )
    else:
        refused = (
            f"The {len(selected)} selected data sources cannot be deleted: jobs were created "
            f"from {len(kept)} of them"
        )
    why = (
        f"{refused}, and ShipOps keeps every job, with its rows and its audit trail, as the "
        "record of what shipped from where. Each job keeps the data source it was created from."
    )
    it, its = ("it", "its") if len(kept) == 1 else ("them", "their")
    instead = (
        f"Leave {it} in place for {its} jobs: a data source ships nothing by itself, only the "
        "jobs created from it do. (ShipOps has no way to archive or deactivate a data source.)"
    )
    kept_ids = {pk for pk, _name, _count in kept}
    if others := [source.name for source in sources if source.pk not in kept_ids]:
        named = ", ".join(f"“{name}”" for name in others)
        instead += f" To delete {named}, select only {'it' if len(others) == 1 else 'those'}."
    return KeptForJobs(lines, why=why, instead=instead)
