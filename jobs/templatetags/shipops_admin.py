"""Template tags of the ShipOps admin: the session's mode switch, money and row costs."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from jobs.models import JobRow
from jobs.session_mode import session_mode, session_mode_lock
from jobs.states import JobMode, RowStatus
from shipops.money import format_cents

register = template.Library()


@register.inclusion_tag("admin/jobs/mode_switch.html", takes_context=True)
def session_mode_switch(context: template.Context) -> dict[str, Any]:
    """Show this session's mode (confirm or auto) and a button that switches it."""
    request = context["request"]
    mode = session_mode(request)
    other = JobMode.CONFIRM if mode == JobMode.AUTO else JobMode.AUTO
    return {
        "mode": mode,
        "mode_name": "Auto" if mode == JobMode.AUTO else "Confirm",
        "mode_help": JobMode(mode).label,
        "switch_to": other,
        "switch_label": f"Switch to {other}",
        "switch_help": "Switches the mode of the jobs this session creates from now on",
        "locked_reason": session_mode_lock(request),
        "switch_url": reverse("admin:jobs_job_mode"),
        "state_url": reverse("admin:jobs_job_mode_state"),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def cents(value: int | None, currency: str = "USD") -> str:
    """Format integer cents as money (``{{ row.cost|cents:job.currency }}``); "—" for none."""
    return "—" if value is None else format_cents(value, currency or "USD")


# Rows nothing will be bought for: an estimate there would read as a cost.
NOT_TO_BE_BOUGHT = frozenset({RowStatus.SKIPPED, RowStatus.CANCELLED})


@register.filter
def row_cost(row: JobRow, currency: str = "USD") -> str:
    """The rows table's Cost: what UPS charged, else "est." and the estimate, "—" for neither.

    Skipped and cancelled rows show "—": they will not be bought. A voided
    row shows "voided": UPS does not charge a voided shipment (the job's
    actual cost left it), although its row keeps the first charge.
    """
    if row.status == RowStatus.VOIDED:
        return "voided"
    if row.actual_cost_cents is not None:
        return cents(row.actual_cost_cents, currency)
    if row.status in NOT_TO_BE_BOUGHT or row.estimated_cost_cents is None:
        return "—"
    return f"est. {cents(row.estimated_cost_cents, currency)}"
