"""Template tags of the ShipOps admin: the session's mode switch shown in every page's header."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from jobs.services.approval import mode_locked_message, mode_locking_job
from jobs.session_mode import session_mode
from jobs.states import JobMode
from shipops.money import format_cents

register = template.Library()


@register.inclusion_tag("admin/jobs/mode_switch.html", takes_context=True)
def session_mode_switch(context: template.Context) -> dict[str, Any]:
    """Show this session's mode (confirm or auto) and a button that switches it."""
    request = context["request"]
    mode = session_mode(request)
    other = JobMode.CONFIRM if mode == JobMode.AUTO else JobMode.AUTO
    locking = mode_locking_job(request.session.session_key)
    return {
        "mode": mode,
        "mode_name": "Auto" if mode == JobMode.AUTO else "Confirm",
        "mode_help": JobMode(mode).label,
        "switch_to": other,
        "switch_label": f"Switch to {other}",
        "locked_reason": mode_locked_message(locking) if locking is not None else "",
        "switch_url": reverse("admin:jobs_job_mode"),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def cents(value: int | None, currency: str = "USD") -> str:
    """Format integer cents as money (``{{ row.cost|cents:job.currency }}``); "—" for none."""
    return "—" if value is None else format_cents(value, currency or "USD")
