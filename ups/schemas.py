"""UPS's official OpenAPI specs (``ups/openapi/``), loaded once and compiled to validators.

``operation(api, method, path)`` returns an ``Operation`` whose ``check()`` lists
every way a request breaks the spec: path, query and header parameters and the
body. The known spec defects are tolerated (``ups.spec_defects``) unless
``tolerate=False`` asks for the spec exactly as published.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

from ups import spec_defects

SPEC_DIR = Path(__file__).resolve().parent / "openapi"
SPEC_FILES = {
    "oauth": "OAuthClientCredentials.yaml",
    "rating": "Rating.yaml",
    "shipping": "Shipping.yaml",
    "xav": "AddressValidation.yaml",
    "tracking": "Tracking.yaml",
}
MAX_VIOLATIONS = 10
# libyaml's safe loader when PyYAML was built with it: the 600 KB Shipping spec loads 10x faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def raw_spec(api: str) -> dict[str, Any]:
    """Return the spec of ``api`` as published (parsed once per process)."""
    text = spec_defects.strip_trailing_blanks(
        (SPEC_DIR / SPEC_FILES[api]).read_text(encoding="utf-8")
    )
    spec: dict[str, Any] = yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
    return spec


@cache
def tolerant_spec(api: str) -> dict[str, Any]:
    """Return the spec of ``api`` with its known defects tolerated."""
    return spec_defects.tolerate(api, copy.deepcopy(raw_spec(api)))


def _validator(schema: Mapping[str, Any], spec: dict[str, Any]) -> Any:
    # The spec's components travel with the schema so "#/components/..." refs resolve.
    return jsonschema.Draft4Validator({**schema, "components": spec.get("components", {})})


def _where(path: Any) -> str:
    return ".".join(str(part) for part in path) or "(the request body)"


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(error: Any) -> list[str]:
    """Return a violation as ``Where.It.Is: what is wrong`` lines."""
    if error.validator != "anyOf" or not error.context:
        return [f"{_where(error.absolute_path)}: {_shorten(error.message)}"]
    # The anyOf patches of spec_defects: report the first alternative that failed for a
    # reason other than the value's type (an object where the array was expected...).
    reasons = [
        inner
        for inner in error.context
        if not (inner.validator == "type" and not inner.relative_path)
    ] or list(error.context)
    first_branch = min(inner.schema_path[0] for inner in reasons)
    return [
        line
        for inner in reasons
        if inner.schema_path[0] == first_branch
        for line in describe(inner)
    ]


@dataclass(frozen=True)
class Parameter:
    """A path, query or header parameter of an operation."""

    location: str
    name: str
    required: bool
    validator: Any
    integer: bool

    def check(self, raw: str | None) -> list[str]:
        """Return the violations of one raw (text) parameter value."""
        label = f"{self.location} parameter {self.name}"
        if raw is None:
            return [f"{label}: is required"] if self.required else []
        value: Any = raw
        if self.integer:
            try:
                value = int(raw)
            except ValueError:
                return [f"{label}: {raw!r} is not a whole number"]
        return [f"{label}: {error.message}" for error in self.validator.iter_errors(value)]


@dataclass(frozen=True)
class Operation:
    """One operation of a spec, ready to check requests against."""

    api: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body_validator: Any | None
    body_required: bool

    def check(
        self,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> list[str]:
        """Return the violations of one request (an empty list when it is valid)."""
        sources = {
            "path": dict(path_params or {}),
            "query": dict(query or {}),
            "header": {key.lower(): value for key, value in (headers or {}).items()},
        }
        problems: list[str] = []
        for parameter in self.parameters:
            key = parameter.name.lower() if parameter.location == "header" else parameter.name
            problems += parameter.check(sources[parameter.location].get(key))
        if body is None:
            if self.body_required:
                problems.append("(the request body): is required")
        elif self.body_validator is not None:
            errors = sorted(self.body_validator.iter_errors(body), key=lambda e: list(e.path))
            problems += [line for error in errors for line in describe(error)]
        return problems[:MAX_VIOLATIONS]


def _parameter(raw: dict[str, Any], spec: dict[str, Any]) -> Parameter:
    schema = dict(raw.get("schema") or {})
    return Parameter(
        location=raw["in"],
        name=raw["name"],
        required=bool(raw.get("required")),
        validator=_validator(schema, spec),
        integer=schema.get("type") == "integer",
    )


@cache
def operation(api: str, method: str, path: str, *, tolerate: bool = True) -> Operation:
    """Return the compiled operation ``method path`` of ``api`` (path as in the spec)."""
    spec = tolerant_spec(api) if tolerate else raw_spec(api)
    try:
        raw = spec["paths"][path][method.lower()]
    except KeyError:
        raise LookupError(f"The {api} spec has no operation {method.upper()} {path}.") from None
    parameters = tuple(
        _parameter(item, spec) for item in raw.get("parameters", ()) if item.get("in") != "cookie"
    )
    request_body = raw.get("requestBody") or {}
    content = request_body.get("content") or {}
    media: dict[str, Any] = next(iter(content.values()), {})
    body_validator = _validator(media["schema"], spec) if media.get("schema") else None
    return Operation(
        api=api,
        method=method.upper(),
        path=path,
        parameters=parameters,
        body_validator=body_validator,
        body_required=bool(request_body.get("required")),
    )


def response_validator(
    api: str, method: str, path: str, status: str, *, tolerate: bool = False
) -> Any:
    """Return a validator for the JSON answer ``status`` of an operation, as published.

    ``tolerate=True`` tolerates the known spec defects (Label Recovery's answer
    code, which the published minimum length makes impossible for GIF).
    """
    spec = tolerant_spec(api) if tolerate else raw_spec(api)
    response = spec["paths"][path][method.lower()]["responses"][status]
    return _validator(response["content"]["application/json"]["schema"], spec)
