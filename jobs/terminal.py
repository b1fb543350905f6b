"""Plain-text renderings for the management commands: the preview table and a progress bar."""

from __future__ import annotations

import shutil

from jobs.summaries import PreviewLine, PreviewSummary
from shipops.money import format_cents

# Widths of "#", "Est. Cost" and "Warnings"; the other three share what is left.
FIXED_WIDTHS = (5, 11, 8)
FLEX_SHARES = (0.34, 0.32, 0.34)  # Recipient, City, State, Service
FLEX_MINIMUMS = (9, 11, 7)  # their headers fit
GAP = 2


def terminal_width(default: int = 100) -> int:
    return shutil.get_terminal_size((default, 24)).columns


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def preview_table(summary: PreviewSummary, *, width: int) -> str:
    """Render the preview as DESIGN.md shows it, fitted to ``width`` columns."""
    room = width - sum(FIXED_WIDTHS) - GAP * 5
    recipient, city, service = (
        max(minimum, int(room * share))
        for share, minimum in zip(FLEX_SHARES, FLEX_MINIMUMS, strict=True)
    )
    number, cost, warnings = FIXED_WIDTHS
    widths = [number, recipient, city, service, cost, warnings]
    header = ["#", "Recipient", "City, State", "Service", "Est. Cost", "Warnings"]

    def line(cells: list[str]) -> str:
        parts = [
            _fit(cell, w).ljust(w) if i not in (0, 4, 5) else _fit(cell, w).rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out = [line(header), line(["-" * w for w in widths])]
    out += [line(_cells(row, summary.currency)) for row in summary.lines]
    if summary.more:
        out.append(f"... and {summary.more} more")
    out.append("")
    out.append(
        f"Total rows: {summary.total_rows}    "
        f"Total estimated cost: {summary.estimate}    "
        f"Rows with warnings: {summary.rows_with_warnings}"
    )
    if summary.rows_with_errors:
        out.append(f"Rows with errors: {summary.rows_with_errors} (exclude them before approving)")
    return "\n".join(out)


def _cells(row: PreviewLine, currency: str) -> list[str]:
    cost = "error" if row.errors else format_cents(row.estimated_cost_cents, currency)
    return [
        str(row.number),
        row.recipient,
        row.city_state,
        row.service,
        cost,
        str(len(row.warnings)),
    ]


def progress_bar(done: int, total: int, *, width: int = 30) -> str:
    """Return ``[#####.....]  12/40  30%``."""
    ratio = 1.0 if total == 0 else min(1.0, done / total)
    filled = round(ratio * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {round(ratio * 100):3d}%"
