"""The shipments the sandbox created: queryable by reference and by tracking number."""

from __future__ import annotations

import secrets
import threading
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from ups.sandbox.labels import LabelContent


@dataclass(frozen=True)
class LedgerEntry:
    """One shipment the sandbox created."""

    shipment_id: str
    tracking_number: str
    reference: str
    shipper_number: str
    service_code: str
    ship_to: dict[str, Any]
    weight_lbs: str
    total_cents: int
    currency: str
    label_format: str
    trans_id: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    voided_at: datetime | None = None
    # What its label shows, to draw it again for Label Recovery (not kept as an image:
    # a 10,000-row batch would hold 200 MB of labels).
    label: LabelContent | None = field(default=None, compare=False, repr=False)

    @property
    def voided(self) -> bool:
        """Return True once the shipment was voided."""
        return self.voided_at is not None

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as JSON data, times in ISO 8601 with offset."""
        data = asdict(self)
        del data["label"]
        data["created_at"] = self.created_at.isoformat()
        data["voided_at"] = self.voided_at.isoformat() if self.voided_at else None
        data["voided"] = self.voided
        return data


class Ledger:
    """Every shipment created since the last reset, safe to use from every thread."""

    def __init__(self) -> None:
        self._entries: list[LedgerEntry] = []
        self._lock = threading.Lock()
        # Package ids start at a random point so a restarted sandbox does not reissue numbers.
        self._next_package_id = secrets.randbelow(5_000_000) + 1_000_000

    def next_package_id(self) -> int:
        """Return a fresh 7-digit package id."""
        with self._lock:
            self._next_package_id += 1
            return self._next_package_id

    def add(self, entry: LedgerEntry) -> None:
        """Record a created shipment."""
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        """Forget every shipment."""
        with self._lock:
            self._entries = []

    def find(
        self,
        *,
        reference: str | None = None,
        tracking_number: str | None = None,
        shipment_id: str | None = None,
    ) -> list[LedgerEntry]:
        """Return the entries matching every given criterion, oldest first."""
        with self._lock:
            entries = list(self._entries)
        return [
            entry
            for entry in entries
            if (reference is None or entry.reference == reference)
            and (tracking_number is None or entry.tracking_number == tracking_number)
            and (shipment_id is None or entry.shipment_id == shipment_id)
        ]

    def picked_up_between(self, reference: str, first: date, last: date) -> list[LedgerEntry]:
        """Return the entries of ``reference`` created between two dates (inclusive)."""
        return [
            entry
            for entry in self.find(reference=reference)
            if first <= entry.created_at.date() <= last
        ]

    def void(self, shipment_id: str) -> LedgerEntry | None:
        """Mark a shipment voided (once) and return it, or None when it is unknown."""
        with self._lock:
            for index, entry in enumerate(self._entries):
                if entry.shipment_id == shipment_id:
                    if not entry.voided:
                        entry = replace(entry, voided_at=datetime.now(UTC))
                        self._entries[index] = entry
                    return entry
        return None
