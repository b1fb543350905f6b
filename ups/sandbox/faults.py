"""Faults the sandbox injects on demand: latency, errors, timeouts, drops, rejections.

A fault targets one endpoint (or ``*``), lets ``after`` matching calls through,
then fires on the next ``count`` calls (or until cleared when ``count`` is
None). Latency faults add up; of the other faults, the first one armed fires.
A latency counts from when the request came in, the sandbox's own work included
(see ``SandboxHandler._serve``), as UPS's latency includes its processing.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ENDPOINTS = ("token", "rate", "ship", "void", "xav", "track", "label")
KINDS = (
    "latency",
    "http_429",
    "http_500",
    "http_503",
    "timeout",
    "timeout_after_ship",
    "drop_connection",
    "expired_token",
    "reject_address",
    "malformed",
)
# Faults that let the sandbox do the work (create the shipment) before they act.
AFTER_WORK_KINDS = ("timeout_after_ship", "malformed")
MALFORMED_VARIANTS = ("html", "truncated", "missing_fields")
DEFAULT_HOLD_SECONDS = 35.0  # longer than the client's default 30 s read timeout


@dataclass
class Fault:
    """One fault and its parameters; see docs/ups.md "Fault injection"."""

    kind: str
    endpoint: str = "*"
    count: int | None = None
    after: int = 0
    ms: int = 0
    min_ms: int = 0
    max_ms: int = 0
    retry_after: int | None = None
    hold_seconds: float = DEFAULT_HOLD_SECONDS
    after_work: bool = False
    variant: str = "html"
    status: int = 200
    postal_codes: list[str] = field(default_factory=list)
    address_lines: list[str] = field(default_factory=list)
    id: int = 0
    seen: int = 0
    fired: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """Build a fault from JSON, raising ValueError with a readable message."""
        if not isinstance(data, Mapping):
            raise ValueError("A fault is a JSON object with at least a 'kind'.")
        allowed = {item.name for item in fields(cls)} - {"id", "seen", "fired"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"Unknown fault fields: {', '.join(sorted(unknown))}.")
        values = dict(data)
        if values.get("kind") == "timeout_after_ship":
            values.setdefault("endpoint", "ship")
        try:
            fault = cls(**values)
        except TypeError as exc:
            raise ValueError(f"A fault needs a 'kind': {exc}.") from None
        fault.validate()
        return fault

    def validate(self) -> None:
        """Raise ValueError when the fault cannot work as given."""
        if self.kind not in KINDS:
            raise ValueError(f"Fault kind {self.kind!r} is not one of {', '.join(KINDS)}.")
        if self.endpoint != "*" and self.endpoint not in ENDPOINTS:
            raise ValueError(f"Endpoint {self.endpoint!r} is not '*' or one of {ENDPOINTS}.")
        if self.count is not None and self.count < 1:
            raise ValueError("'count' is at least 1 (leave it out to fire until cleared).")
        if self.after < 0 or self.ms < 0 or self.min_ms < 0 or self.max_ms < self.min_ms:
            raise ValueError("'after', 'ms', 'min_ms' and 'max_ms' cannot be negative or reversed.")
        if self.variant not in MALFORMED_VARIANTS:
            raise ValueError(f"Variant {self.variant!r} is not one of {MALFORMED_VARIANTS}.")
        if self.kind == "reject_address" and not (self.postal_codes or self.address_lines):
            raise ValueError("A reject_address fault needs 'postal_codes' or 'address_lines'.")

    def matches(self, endpoint: str) -> bool:
        """Return True when the fault applies to ``endpoint``."""
        if self.kind == "expired_token" and endpoint == "token":
            return False
        return self.endpoint in ("*", endpoint)

    @property
    def acts_after_work(self) -> bool:
        """Return True when the sandbox does the work before the fault acts."""
        return self.kind in AFTER_WORK_KINDS or (self.kind == "drop_connection" and self.after_work)

    def latency_seconds(self) -> float:
        """Return this call's delay: ``ms`` fixed, or uniform in ``min_ms..max_ms``."""
        if self.max_ms:
            return random.uniform(self.min_ms, self.max_ms) / 1000  # noqa: S311
        return self.ms / 1000

    def rejects(self, postal_code: str, lines: list[str]) -> bool:
        """Return True when the address is on this fault's reject list."""
        compact = postal_code.replace("-", "").replace(" ", "")
        if any(compact.startswith(code.replace("-", "")) for code in self.postal_codes):
            return True
        text = " ".join(lines).upper()
        return any(line.upper() in text for line in self.address_lines if line)

    def as_dict(self) -> dict[str, Any]:
        """Return the fault as JSON data."""
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """What the drawn faults do to one call."""

    latency: float = 0.0
    fault: Fault | None = None


class FaultBook:
    """The active faults, safe to use from every handler thread."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, fault: Fault) -> Fault:
        """Activate ``fault`` and return it with its id."""
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        """Remove one fault; return False when it is not active."""
        with self._lock:
            before = len(self._faults)
            self._faults = [fault for fault in self._faults if fault.id != fault_id]
            return len(self._faults) < before

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults = []

    def as_list(self) -> list[dict[str, Any]]:
        """Return the active faults as JSON data."""
        with self._lock:
            return [fault.as_dict() for fault in self._faults]

    def draw(self, endpoint: str) -> Plan:
        """Return the latency and the fault (if any) for one call of ``endpoint``."""
        latency, chosen = 0.0, None
        with self._lock:
            for fault in list(self._faults):
                if fault.kind == "reject_address" or not fault.matches(endpoint):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                if fault.kind == "latency":
                    latency += fault.latency_seconds()
                elif chosen is None:
                    chosen = fault
                else:
                    continue
                self._spend(fault)
        return Plan(latency, chosen)

    def rejects(self, endpoint: str, postal_code: str, lines: list[str]) -> bool:
        """Return True when a reject_address fault refuses this address on ``endpoint``."""
        with self._lock:
            for fault in list(self._faults):
                if (
                    fault.kind == "reject_address"
                    and fault.matches(endpoint)
                    and fault.rejects(postal_code, lines)
                ):
                    self._spend(fault)
                    return True
        return False

    def _spend(self, fault: Fault) -> None:
        fault.fired += 1
        if fault.count is not None and fault.fired >= fault.count:
            self._faults.remove(fault)


def faults_from_environ(environ: Mapping[str, str] | None = None) -> list[Fault]:
    """Return the faults the ``UPS_SANDBOX_*`` environment variables ask for."""
    env = os.environ if environ is None else environ
    faults: list[Fault] = []
    latency = env.get("UPS_SANDBOX_LATENCY_MS", "").strip()
    if latency:
        low, _, high = latency.partition("-")
        try:
            if high:
                faults.append(Fault(kind="latency", min_ms=int(low), max_ms=int(high)))
            else:
                faults.append(Fault(kind="latency", ms=int(low)))
        except ValueError:
            raise ValueError(
                f"UPS_SANDBOX_LATENCY_MS={latency!r} is not milliseconds like 50 or 20-80."
            ) from None
    postal_codes = [
        code.strip() for code in env.get("UPS_SANDBOX_REJECT_POSTAL_CODES", "").split(",")
    ]
    lines = [line.strip() for line in env.get("UPS_SANDBOX_REJECT_ADDRESSES", "").split(";")]
    if any(postal_codes) or any(lines):
        faults.append(
            Fault(
                kind="reject_address",
                postal_codes=[code for code in postal_codes if code],
                address_lines=[line for line in lines if line],
            )
        )
    raw = env.get("UPS_SANDBOX_FAULTS", "").strip()
    if raw:
        try:
            items = json.loads(raw)
        except ValueError:
            raise ValueError("UPS_SANDBOX_FAULTS is not JSON (a list of fault objects).") from None
        faults += [
            Fault.from_dict(item) for item in (items if isinstance(items, list) else [items])
        ]
    for fault in faults:
        fault.validate()
    return faults
