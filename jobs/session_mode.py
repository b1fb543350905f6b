"""The admin session's mode (confirm or auto): read it, and switch it through the service."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest

from jobs.services.approval import mode_locked_message, mode_locking_job, session_mode_switch
from jobs.states import JobMode

SESSION_KEY = "shipops_mode"


def session_mode(request: HttpRequest) -> str:
    """Return the mode new jobs of this admin session start in (confirm by default)."""
    mode = request.session.get(SESSION_KEY, JobMode.CONFIRM)
    return mode if mode in JobMode.values else JobMode.CONFIRM


def session_mode_lock(request: HttpRequest) -> str:
    """Say why this session's mode cannot change now (a batch of it runs), or "" if it can."""
    locking = mode_locking_job(request.session.session_key)
    return mode_locked_message(locking) if locking is not None else ""


def switch_session_mode(request: HttpRequest, *, user: User, to_mode: str) -> None:
    """Switch this session's mode; refused (DomainError ``mode_locked``) while its batch runs."""
    if not request.session.session_key:
        request.session.save()
    session_mode_switch(session_key=request.session.session_key, to_mode=to_mode, actor=user)
    request.session[SESSION_KEY] = to_mode
