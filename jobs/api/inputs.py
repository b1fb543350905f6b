"""Read a request's JSON body and query string, refusing bad input with a 400."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from django.http import HttpRequest

from jobs.api.http import ApiError

JSON_TYPES = {"application/json"}
MAX_NUMBER = 2**31 - 1  # what a page or row number can be at the most


def invalid(field: str, problem: str) -> ApiError:
    """Return the 400 for one bad field of a body or query string."""
    return ApiError(400, "invalid_request", f"{field}: {problem}", details={"field": field})


def json_body(request: HttpRequest, *, allowed: Collection[str]) -> dict[str, Any]:
    """Return the request's JSON object (``{}`` for an empty body); unknown fields are refused."""
    if not request.body:
        return {}
    if request.content_type not in JSON_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Send the body as application/json, not {request.content_type or 'untyped data'}.",
        )
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "bad_json", f"The body is not valid JSON: {error}.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "The body must be a JSON object.")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError(
            400,
            "invalid_request",
            f"Unknown field(s): {', '.join(unknown)}.",
            details={"fields": unknown, "allowed": sorted(allowed)},
        )
    return data


def boolean(data: dict[str, Any], field: str, *, default: bool = False) -> bool:
    """Return ``data[field]`` as a JSON boolean (``default`` when absent)."""
    value = data.get(field, default)
    if not isinstance(value, bool):
        raise invalid(field, "must be true or false.")
    return value


def text(data: dict[str, Any], field: str, *, default: str = "") -> str:
    """Return ``data[field]`` as a string (``default`` when absent)."""
    value = data.get(field, default)
    if not isinstance(value, str):
        raise invalid(field, "must be a string.")
    return value


def whole_number(data: dict[str, Any], field: str) -> int:
    """Return the required ``data[field]`` as an integer."""
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, "is required and must be a whole number.")
    return value


def choice(data: dict[str, Any], field: str, choices: Collection[str], *, default: str) -> str:
    """Return ``data[field]`` if it is one of ``choices`` (``default`` when absent)."""
    value = data.get(field, default)
    if value not in choices:
        raise invalid(field, f"must be one of {', '.join(choices)}, not {value!r}.")
    return str(value)


def json_object(data: dict[str, Any], field: str) -> dict[str, Any]:
    """Return ``data[field]`` as a JSON object (``{}`` when absent or null)."""
    value = data.get(field) or {}
    if not isinstance(value, dict):
        raise invalid(field, "must be an object.")
    return value


def query_choices(request: HttpRequest, field: str, choices: Collection[str]) -> list[str]:
    """Return the values of a repeatable query parameter, each one of ``choices``."""
    values = [value for value in request.GET.getlist(field) if value]
    for value in values:
        if value not in choices:
            raise invalid(field, f"must be one of {', '.join(choices)}, not {value!r}.")
    return values


def query_number(
    request: HttpRequest, field: str, *, default: int, maximum: int | None = None
) -> int:
    """Return a positive whole-number query parameter (``default`` when absent)."""
    raw = request.GET.get(field, "")
    if raw == "":
        return default
    digits = raw.lstrip("0")
    if not (raw.isascii() and raw.isdigit()) or not digits:
        raise invalid(field, f"must be a whole number of 1 or more, not {raw[:20]!r}.")
    # Compared by length first: int() refuses numbers of 4,300 digits and more.
    limit = maximum if maximum is not None else MAX_NUMBER
    if len(digits) > len(str(limit)) or int(digits) > limit:
        raise invalid(field, f"must be {limit} at most.")
    return int(digits)
