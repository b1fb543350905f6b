"""Hold the API's answers to its OpenAPI document: every response a test gets is checked.

``ApiClient`` wraps Django's test client. Each answer to a documented operation
must have a documented status and a body valid against that status's schema;
any other answer (a 405, the JSON 404 of an unknown URL) must be an error body.
A request body the server accepted (2xx) must be valid against the document too.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from jobs.api.openapi import openapi_document

if TYPE_CHECKING:  # what Django's test client returns, as django-stubs names it
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

DOCUMENT_URI = "urn:shipops:openapi"
JSON = "application/json"
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _iso_time_with_offset(value: object) -> bool:
    """STYLE.md item 9: an ISO 8601 time with its offset."""
    return not isinstance(value, str) or datetime.fromisoformat(value).utcoffset() is not None


@cache
def document() -> dict[str, Any]:
    return openapi_document()


@cache
def _registry() -> Registry[Any]:
    resource = Resource.from_contents(document(), default_specification=DRAFT202012)
    return Registry().with_resource(DOCUMENT_URI, resource)


def pointer(*parts: str) -> str:
    """Return the JSON pointer to ``parts`` inside the document."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def validate(instance: Any, at: str) -> None:
    """Raise ValidationError unless ``instance`` is valid against the schema at pointer ``at``."""
    schema = {"$ref": f"{DOCUMENT_URI}#{at}"}
    Draft202012Validator(schema, registry=_registry(), format_checker=FORMATS).validate(instance)


def template_matches(template: str, path: str) -> bool:
    """Return whether ``path`` is an instance of the path template (``{name}`` is a segment)."""
    want, got = template.split("/"), path.split("/")
    return len(want) == len(got) and all(
        w == g or (w.startswith("{") and g != "") for w, g in zip(want, got, strict=True)
    )


def operation_for(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """Return the path template and operation a request hits, or None when undocumented."""
    for template, item in document()["paths"].items():
        if template_matches(template, path) and method in item:
            return template, item[method]
    return None


def response_schema(template: str, method: str, status: int) -> str:
    """Return the pointer to the schema of ``status`` answers of an operation."""
    responses = document()["paths"][template][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {template} answered {status}: undocumented"
    at = ("paths", template, method, "responses", str(status))
    if ref := responses[str(status)].get("$ref"):
        at = tuple(ref.removeprefix("#/").split("/"))
    return pointer(*at, "content", JSON, "schema")


def check(response: Response, body: Any = None) -> None:
    """Assert that an answer (and an accepted request body) agree with the document."""
    assert response["Content-Type"] == JSON, response.content[:200]
    data = json.loads(response.content)
    request = response.request
    method, path = request["REQUEST_METHOD"].lower(), request["PATH_INFO"]
    found = operation_for(method, path)
    if found is None:
        validate(data, pointer("components", "schemas", "Error"))
        return
    template, operation = found
    validate(data, response_schema(template, method, response.status_code))
    if body is not None and response.status_code < 300:
        assert "requestBody" in operation, f"{method.upper()} {template} takes no body"
        validate(body, pointer("paths", template, method, "requestBody", "content", JSON, "schema"))


class ApiClient:
    """Django's test client speaking JSON, each answer checked against the document."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, path: str, params: dict[str, Any] | None = None) -> Response:
        response = self.client.get(path, params or {})
        check(response)
        return response

    def post(self, path: str, body: Any = None, **headers: str) -> Response:
        data = "" if body is None else json.dumps(body)
        response = self.client.post(path, data, content_type=JSON, headers=headers)
        check(response, body)
        return response

    def post_text(self, path: str, text: str) -> Response:
        """Post a body exactly as written: JSON that ``json.dumps`` would not write."""
        response = self.client.post(path, text, content_type=JSON)
        check(response)
        return response

    def send(self, method: str, path: str) -> Response:
        """Send a request with any method and no body."""
        response = self.client.generic(method.upper(), path)
        check(response)
        return response
