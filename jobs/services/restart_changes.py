"""What a restart would ship that nobody previewed: the rows that changed in the source since.

A restart reads its rows again from the source and approves them at once,
keeping the old preview's estimates only for rows read the same way
(``estimate.job_copy_preview``). The person restarting is told beforehand
which rows changed (they ship as the source has them now, without an
estimate) and which are gone (they do not ship).
"""

from __future__ import annotations

from datasources.adapters import get_adapter
from datasources.errors import SourceError
from jobs.models import Job, JobRow
from jobs.states import RowStatus
from jobs.summaries import rows_numbered


def job_restart_source_changes(job: Job) -> list[str]:
    """Return sentences naming ``job``'s rows that changed in, or left, its source; [] if none."""
    rows = list(
        JobRow.objects.filter(job=job)
        .exclude(status=RowStatus.SKIPPED)
        .order_by("row_number")
        .values_list("row_number", "source_key", "source_checksum")
    )
    try:
        current = get_adapter(job.data_source).current_checksums([key for _, key, _ in rows])
    except SourceError as error:
        return [f"The source could not be read to compare it with {job}'s rows: {error.message}"]
    changed = [number for number, key, sum_ in rows if key in current and current[key] != sum_]
    gone = [number for number, key, _ in rows if key not in current]
    said = []
    if changed:
        one = len(changed) == 1
        said.append(
            f"{rows_numbered(changed).capitalize()} changed in the source after {job} read "
            f"{'it' if one else 'them'}: the restart ships {'it' if one else 'them'} as the "
            f"source has {'it' if one else 'them'} now, without an estimate (nobody previewed "
            "that content). To look first, cancel this job and create a new one instead."
        )
    if gone:
        one = len(gone) == 1
        said.append(
            f"{rows_numbered(gone).capitalize()} {'is' if one else 'are'} no longer in the "
            f"source: the restart does not ship {'it' if one else 'them'}."
        )
    return said
