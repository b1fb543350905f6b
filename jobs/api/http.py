"""What every JSON view shares: staff-only access, one error body, JSON in and out."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve, reverse
from django.views import View
from django.views.csrf import csrf_failure as django_csrf_failure

from jobs.permissions import APPROVE_PERMISSION, REFUSALS, VIEW_PERMISSION, may_view_jobs
from shipops.errors import DomainError
from ups.errors import UpsError

logger = logging.getLogger(__name__)

# Domain errors that are the caller's fault or a missing right; every other code
# is a conflict with the current state of a job, a row or a source (409).
DOMAIN_ERROR_STATUS = {
    "permission_denied": 403,
    "bad_filter": 400,
    "bad_mode": 400,
    "bad_tracking": 400,
    "queue_unavailable": 503,  # the action is done; its task could not be queued
}


class ApiError(Exception):
    """Refuse a request with an HTTP status and the API's error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        """Return the API's one error body: ``{"code", "message", "details"}``."""
        body = {"code": self.code, "message": self.message, "details": self.details}
        return JsonResponse(body, status=self.status, headers=self.headers)


def acting_user(request: HttpRequest) -> User:
    """Return the active staff user behind ``request``, or raise a 401/403 ApiError."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise ApiError(
            401,
            "not_authenticated",
            "Log in with a staff account first; docs/api.md shows how scripts do it.",
            details={"login_url": reverse("admin:login")},
            headers={"WWW-Authenticate": 'Cookie realm="ShipOps"'},
        )
    if not (user.is_active and user.is_staff):
        raise ApiError(403, "not_staff", "Only staff users may use the ShipOps API.")
    return user


def permission_denied(permission: str = APPROVE_PERMISSION) -> ApiError:
    """Return the refusal for a user without ``permission`` (the admin checks the same)."""
    return ApiError(
        403, "permission_denied", REFUSALS[permission], details={"permission": permission}
    )


class ApiView(View):
    """A JSON endpoint for active staff that answers every failure with the error body.

    Never csrf_exempt: Django's CSRF middleware checks every POST before it gets here.
    """

    # Needed on top of staff status for POST (checked before anything is read or changed);
    # the same permission the admin asks for the same action (jobs/permissions.py).
    write_permission = ""
    # Needed on top of staff status for GET: the answers show jobs and their recipients,
    # which the admin shows only to those who may view jobs. False: nothing about jobs.
    needs_view_permission = True
    # The query parameters the view reads; any other is refused, so a typo (``?stauts=``)
    # never passes silently as "no filter".
    # None: the view takes any (the JSON 404 of an unknown URL).
    query_fields: frozenset[str] | None = frozenset()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            user = acting_user(request)
            write = request.method == "POST" and self.write_permission
            if write and not user.has_perm(self.write_permission):
                raise permission_denied(self.write_permission)
            read = request.method in ("GET", "HEAD") and self.needs_view_permission
            if read and not may_view_jobs(user):
                raise permission_denied(VIEW_PERMISSION)
            allowed = self.query_fields
            if allowed is not None and (unknown := sorted(set(request.GET) - allowed)):
                raise ApiError(
                    400,
                    "invalid_request",
                    f"Unknown query parameter(s): {', '.join(map(repr, unknown))}.",
                    details={"fields": unknown, "allowed": sorted(allowed)},
                )
            return super().dispatch(request, *args, **kwargs)
        except ApiError as error:
            return error.response()
        except DomainError as error:
            status = DOMAIN_ERROR_STATUS.get(error.code, 409)
            return ApiError(status, error.code, error.message, details=error.details).response()
        except UpsError as error:
            # Services turn UPS failures into domain errors; this is the safety net.
            # UPS messages are redacted at the source and carry no credentials.
            logger.warning("UPS error reached the API: %s %s", error.code, error.message)
            return ApiError(
                502,
                "ups_error",
                f"UPS did not answer as expected: {error.message}",
                details={"kind": error.kind, "ups_code": error.code},
            ).response()

    def http_method_not_allowed(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        allowed = [
            method.upper()
            for method in self.http_method_names
            if method not in {"head", "options"} and hasattr(self, method)
        ]
        return ApiError(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here; use {' or '.join(allowed)}.",
            details={"allowed": allowed},
            headers={"Allow": ", ".join(allowed)},
        ).response()


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Refuse a POST without a valid CSRF token: in the error shape under /api/."""
    try:
        in_api = resolve(request.path_info).namespace == "api"
    except Resolver404:
        in_api = False
    if not in_api:
        return django_csrf_failure(request, reason=reason)
    return ApiError(
        403,
        "csrf_failed",
        f"The CSRF token is missing or wrong: send the value of the {settings.CSRF_COOKIE_NAME} "
        "cookie in the X-CSRFToken header (docs/api.md).",
        details={"reason": reason},
    ).response()
