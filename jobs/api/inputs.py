"""Read a request's JSON body and query string, refusing bad input with a 400."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from django.http import HttpRequest

from jobs.api.http import ApiError

JSON_TYPES = {"application/json"}
MAX_NUMBER = 2**31 - 1  # what a page or row number can be at the most
# The bodies the API takes are 2 levels deep (a body and its filter); a little more
# leaves room to say what is wrong with a field, far less than Python's recursion limit.
MAX_DEPTH = 5
# What a JSON string can hold and a database cannot store: NUL (PostgreSQL refuses it)
# and a lone UTF-16 surrogate ("\ud800" is valid JSON, but is no character in UTF-8).
NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def invalid(field: str, problem: str) -> ApiError:
    """Return the 400 for one bad field of a body or query string."""
    return ApiError(400, "invalid_request", f"{field}: {problem}", details={"field": field})


def json_body(request: HttpRequest, *, allowed: Collection[str]) -> dict[str, Any]:
    """Return the request's JSON object (``{}`` for an empty body), strictly read.

    Refused: unknown fields, a key given twice, nesting past MAX_DEPTH, and text a
    database cannot store (NUL, lone surrogates) anywhere in the body.
    """
    if not request.body:
        return {}
    if request.content_type not in JSON_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Send the body as application/json, not {request.content_type or 'untyped data'}.",
        )
    try:
        data = json.loads(request.body, object_pairs_hook=_object_with_unique_keys)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "bad_json", f"The body is not valid JSON: {error}.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "The body must be a JSON object.")
    _refuse_deep_nesting_and_bad_text(data, field="", depth=1)
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


def json_object(data: dict[str, Any], field: str, *, absent: str) -> dict[str, Any]:
    """Return ``data[field]`` as a JSON object; absent or null (which say ``absent``) is ``{}``."""
    value = data.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        # Never read as absent: "filter": [] or false taking every row would ship them all.
        raise invalid(field, f"must be a JSON object, or null (or left out) to {absent}.")
    return value


def query_choices(request: HttpRequest, field: str, choices: Collection[str]) -> list[str]:
    """Return the values of a repeatable query parameter, each one of ``choices``.

    An empty value (``?status=``) is refused like any other value not in
    ``choices``: read as "no filter", a client's missing value would list everything.
    """
    values = request.GET.getlist(field)
    for value in values:
        if value not in choices:
            raise invalid(field, f"must be one of {', '.join(choices)}, not {value!r}.")
    return values


def query_number(
    request: HttpRequest, field: str, *, default: int, maximum: int | None = None
) -> int:
    """Return a positive whole-number query parameter: ``default`` when absent, never empty."""
    if field not in request.GET:
        return default
    raw = request.GET[field]
    digits = raw.lstrip("0")
    if not (raw.isascii() and raw.isdigit()) or not digits:
        raise invalid(field, f"must be a whole number of 1 or more, not {raw[:20]!r}.")
    # Compared by length first: int() refuses numbers of 4,300 digits and more.
    limit = maximum if maximum is not None else MAX_NUMBER
    if len(digits) > len(str(limit)) or int(digits) > limit:
        raise invalid(field, f"must be {limit} at most.")
    return int(digits)


def _too_deep() -> ApiError:
    """Return the 400 for a body nested deeper than any the API takes."""
    return ApiError(
        400,
        "bad_json",
        f"The body is nested more than {MAX_DEPTH} levels deep; "
        "no operation takes more than 2 (a body and its filter).",
    )


def _object_with_unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing a key given twice (``json`` would keep the last one)."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise invalid(_shown(key), "is given twice; send each field once.")
        data[key] = value
    return data


def _refuse_deep_nesting_and_bad_text(value: Any, *, field: str, depth: int) -> None:
    """Refuse nesting past MAX_DEPTH, and names and strings a database cannot store."""
    if isinstance(value, str):
        if problem := _text_problem(value):
            raise invalid(field, problem)
    elif isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            raise _too_deep()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            path = f"{field}[{key}]" if isinstance(key, int) else _path(field, key)
            if isinstance(key, str) and (problem := _text_problem(key)):
                raise invalid(path, f"its name {problem}")
            _refuse_deep_nesting_and_bad_text(item, field=path, depth=depth + 1)


def _text_problem(text: str) -> str:
    """Return why ``text`` cannot be stored, or ``""``."""
    found = NOT_TEXT.search(text)
    if found is None:
        return ""
    if found.group() == "\x00":
        return "holds a NUL character (\\u0000), which cannot be stored; leave it out."
    return (
        f"holds {_shown(found.group())}, half of a UTF-16 surrogate pair without the other "
        "half, which is not a character; send the whole pair or the character itself."
    )


def _path(field: str, key: str) -> str:
    return f"{field}.{_shown(key)}" if field else _shown(key)


def _shown(text: str) -> str:
    """Return ``text`` with lone surrogates written as escapes (``\\ud800``), safe to show."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
