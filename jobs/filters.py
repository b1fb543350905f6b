"""Which source rows a job takes: a column that equals or contains a value, and a row range."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from shipops.errors import DomainError

MatchKind = Literal["equals", "contains"]


@dataclass(frozen=True)
class RowFilter:
    """A job's row filter; empty means every row."""

    column: str = ""
    match: MatchKind = "equals"
    value: str = ""
    first_row: int | None = None
    last_row: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RowFilter:
        """Build a filter from its stored or submitted form, refusing what makes no sense."""
        data = data or {}
        unknown = set(data) - {"column", "match", "value", "first_row", "last_row"}
        if unknown:
            raise DomainError(
                "bad_filter", f"The filter has unknown parts: {', '.join(sorted(unknown))}."
            )
        match: MatchKind = "contains" if data.get("match") == "contains" else "equals"
        if data.get("match") not in (None, "", "equals", "contains"):
            raise DomainError(
                "bad_filter",
                f"The filter match must be equals or contains, not {data['match']!r}.",
            )
        column, value = _text(data, "column"), _text(data, "value")
        if bool(column) != bool(value):
            raise DomainError("bad_filter", "A column filter needs both a column and a value.")
        first, last = _row_number(data, "first_row"), _row_number(data, "last_row")
        if first is not None and last is not None and first > last:
            raise DomainError(
                "bad_filter", f"The row range {first}-{last} is empty: {first} > {last}."
            )
        return cls(column=column, match=match, value=value, first_row=first, last_row=last)

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}

    def matches(self, number: int, values: dict[str, str]) -> bool:
        """Return whether source row ``number`` with ``values`` belongs in the job."""
        if self.first_row is not None and number < self.first_row:
            return False
        if self.last_row is not None and number > self.last_row:
            return False
        if not self.column:
            return True
        cell = str(values.get(self.column, "")).strip().casefold()
        wanted = self.value.casefold()
        return cell == wanted if self.match == "equals" else wanted in cell

    def describe(self) -> str:
        """Return the filter as an operator would say it."""
        parts = []
        if self.column:
            parts.append(f'{self.column} {self.match} "{self.value}"')
        if self.first_row is not None or self.last_row is not None:
            parts.append(f"rows {self.first_row or 1}-{self.last_row or 'end'}")
        return ", ".join(parts) or "all rows"


def _text(data: dict[str, Any], key: str) -> str:
    # Text only, as the admin's form sends it: which cells a number such as 30303 or
    # 3.03e4 should match is a guess, so a script says which text it means.
    raw = data.get(key)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise DomainError(
            "bad_filter",
            f'The filter\'s {key} must be text, a JSON string such as "30303" (not 30303).',
        )
    return raw.strip()


def _row_number(data: dict[str, Any], key: str) -> int | None:
    # A JSON integer only: a fraction, true or Infinity is a mistake to report, not to round.
    raw = data.get(key)
    if raw is None:
        return None
    name = key.replace("_", " ")
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise DomainError(
            "bad_filter",
            f"The filter's {name} must be a whole number written as a JSON integer, such as 2 "
            "(not a fraction, true or false, text, NaN or Infinity).",
        )
    if raw < 1:
        raise DomainError("bad_filter", f"The filter's {name} must be 1 or more.")
    return raw


# A job's stored filter may carry, under this key, the words for rows no filter names
# (a restart takes the orders of the job it restarts): never a part of the filter itself.
DESCRIBED = "described"


def filter_parts(stored: dict[str, Any] | None) -> dict[str, Any]:
    """Return a job's stored filter without its description: what the API shows as ``filter``."""
    return {key: value for key, value in (stored or {}).items() if key != DESCRIBED}


def describe_stored(stored: dict[str, Any] | None) -> str:
    """Return which rows a job took, as an operator would say it, from its stored filter."""
    described = (stored or {}).get(DESCRIBED)
    if described:
        return str(described)
    return RowFilter.from_json(filter_parts(stored)).describe()
