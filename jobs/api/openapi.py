"""The OpenAPI 3.1 document of the staff JSON views, and the view that serves it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from jobs.api.http import ApiView
from jobs.api.paths import ERROR_RESPONSES, PATHS
from jobs.api.schemas import SCHEMAS, Schema, ref


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every staff JSON view."""
    responses = {
        name: {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
        for name, text in ERROR_RESPONSES.values()
    }
    document_schema: Schema = {"type": "object", "required": ["openapi", "info", "paths"]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ShipOps staff API",
            "version": "1.0.0",
            "description": "JSON views for staff dashboards and scripts: session login, a "
            "CSRF token on every POST, errors as {code, message, details}. See docs/api.md.",
        },
        "security": [{"session": []}],
        "tags": [{"name": name} for name in ("jobs", "rows", "actions", "meta")],
        "paths": PATHS,
        "components": {
            "schemas": {**SCHEMAS, "Document": document_schema},
            "responses": responses,
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": settings.SESSION_COOKIE_NAME,
                    "description": "Django's session cookie, from logging in at /admin/login/.",
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": f"The value of the {settings.CSRF_COOKIE_NAME} cookie.",
                },
            },
        },
    }


class OpenApiView(ApiView):
    """GET: this API's OpenAPI document (staff only, like every other endpoint)."""

    needs_view_permission = False  # it describes the API, not any job

    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(openapi_document())
