"""What other apps hear about data sources: a change asked for, and a change made (audit)."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

# Sent inside the transaction of the change, with ``source`` (the DataSource),
# ``actor`` (the user), ``action`` ("added", "changed" or "deleted") and
# ``changes`` ({field: {"from": old, "to": new}}; every field set, for an add;
# empty for a delete). The jobs app records it in the audit trail.
source_changed = Signal()

# The fields that say where a source's rows are read and written, and how
# they are told apart. Jobs under way depend on them.
LOCATION_FIELDS = (
    "kind",
    "file_path",
    "sheet_name",
    "db_alias",
    "table_name",
    "key_column",
    "tracking_column",
    "shipped_at_column",
)

# Sent by the data source form before a change of LOCATION_FIELDS is saved,
# with ``source`` (the DataSource as stored) and ``fields`` (the names of the
# location fields about to change). A receiver returns a sentence refusing
# the change, or None. The jobs app refuses while a job of the source is
# under way.
location_change_requested = Signal()


def location_change_refusals(source: Any, fields: list[str]) -> list[str]:
    """Return why ``fields`` of ``source`` may not change now (empty: they may)."""
    answers = location_change_requested.send(sender=type(source), source=source, fields=fields)
    return [answer for _, answer in answers if answer]
