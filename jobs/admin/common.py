"""What every job admin view shares: the acting user, safe redirects, domain errors as messages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import update_wrapper
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import ActionLocation
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from jobs.models import Job
from shipops.errors import DomainError
from shipops.words import counted

# Django 6.1 prefixes the change form's action field with the action's location.
FORM_ACTION_FIELD = f"{ActionLocation.CHANGE_FORM.value}-action"
BOTH_LOCATIONS = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin that only shows: its rows change through services, which audit each change."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def rows(count: int) -> str:
    """Return "1 row" or "3 rows"."""
    return counted(count, "row")


def shipped_rows_kept(count: int) -> str:
    """Return "1 row that shipped is kept" or "3 rows that shipped are kept"."""
    return f"{rows(count)} that shipped {'is' if count == 1 else 'are'} kept"


def staff_user(request: HttpRequest) -> User:
    """Return the signed-in user the audit trail records; admin views only let staff in."""
    user = request.user
    if not isinstance(user, User) or not user.is_staff:
        raise PermissionDenied
    return user


def ensure_session_key(request: HttpRequest) -> str:
    """Return the session's key, saving a new session first so that it has one."""
    if not request.session.session_key:
        request.session.save()
    return str(request.session.session_key)


def from_job_page(request: HttpRequest) -> bool:
    """Return True when an action was sent from a job's own page, not from the job list."""
    return FORM_ACTION_FIELD in request.POST


def job_url(job: Job) -> str:
    """Return the admin page of ``job``."""
    return reverse("admin:jobs_job_change", args=[job.pk])


def safe_next(request: HttpRequest, default: str = "") -> str:
    """Return the ``next`` address of a POST when it stays on this site, else ``default``."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if wanted and allowed else (default or reverse("admin:index"))


def for_each_job(request: HttpRequest, jobs: Iterable[Job], run: Callable[[Job], str]) -> int:
    """Call ``run`` on each job; report its sentence or the refusal; return how many succeeded.

    A job that was selected but is not in ``jobs`` is named too: the admin
    passes only the selected jobs that the list's filters still show, so a
    job whose status changed under a filtered list would be left out without
    a word.
    """
    done, seen = 0, set()
    for job in jobs:
        seen.add(job.pk)
        try:
            sentence = run(job)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, sentence)
            done += 1
    for pk in _selected_ids(request) - seen:
        messages.error(
            request,
            f"Job {pk} no longer matches the list's filters, so nothing was done to it: clear "
            "the filters and select it again.",
        )
    return done


def _selected_ids(request: HttpRequest) -> set[int]:
    """The jobs ticked on the list (none when "select all" took every job the filters show)."""
    if request.POST.get("select_across") == "1":
        return set()
    ticked = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
    return {int(value) for value in ticked if value.isdigit()}


def admin_view(
    modeladmin: admin.ModelAdmin[Any], view: Callable[..., HttpResponseBase], method: str
) -> Callable[..., HttpResponseBase]:
    """Return ``view(modeladmin, request, ...)`` for one HTTP method, behind the staff check."""

    @require_http_methods([method])
    def bound(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return view(modeladmin, request, *args, **kwargs)

    return update_wrapper(modeladmin.admin_site.admin_view(bound), view)
