"""What other apps hear about data sources: a person's add, change or delete, for the audit."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction of the change, with ``source`` (the DataSource),
# ``actor`` (the user), ``action`` ("added", "changed" or "deleted") and
# ``changes`` ({field: {"from": old, "to": new}}; every field set, for an add;
# empty for a delete). The jobs app records it in the audit trail.
source_changed = Signal()
