"""The OpenAPI document and the views held to each other: routes, structure, real answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from datasources.models import DataSource
from jobs.api import urls as api_urls
from jobs.models import Job, JobRow
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.api.conftest import make_job
from tests.jobs.api.contract import ApiClient, document, operation_for

pytestmark = pytest.mark.django_db

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
OPERATION_FIELDS = {
    "tags", "summary", "description", "externalDocs", "operationId", "parameters",
    "requestBody", "responses", "callbacks", "deprecated", "security", "servers",
}  # fmt: skip
Request = tuple[str, str, dict[str, Any] | None, int]


def routed_operations() -> set[tuple[str, str]]:
    """Return (path template, method) for every route of jobs.api.urls but the 404 fallback."""
    prefix = reverse("api:openapi").removesuffix("openapi.json")
    routed = set()
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name == "not-found":
            continue
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        view = pattern.callback.view_class  # type: ignore[attr-defined]
        methods = {m for m in view.http_method_names if m not in {"head", "options"}}
        routed |= {(prefix + route, method) for method in methods if hasattr(view, method)}
    return routed


def documented_operations() -> set[tuple[str, str]]:
    return {(path, method) for path, item in document()["paths"].items() for method in item}


def test_every_route_is_documented_and_every_documented_operation_is_routed() -> None:
    assert documented_operations() == routed_operations()


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def resolve(ref: str) -> Any:
    node: Any = document()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_reference_resolves_and_every_schema_is_valid_json_schema() -> None:
    refs = set(references(document()))
    assert refs, "the document should share its schemas through references"
    for ref in refs:
        assert ref.startswith("#/components/"), ref
        assert isinstance(resolve(ref), dict), ref
    for name, schema in document()["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert re.fullmatch(r"[a-zA-Z0-9._-]+", name)


def test_the_document_is_structurally_openapi_3_1() -> None:
    doc = document()
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert isinstance(doc["info"]["title"], str)
    assert isinstance(doc["info"]["version"], str)
    schemes = doc["components"]["securitySchemes"]
    for scheme in schemes.values():
        assert scheme["type"] == "apiKey"
        assert scheme["in"] in {"query", "header", "cookie"}
        assert scheme["name"]
    tags = {tag["name"] for tag in doc["tags"]}
    operation_ids = []
    for template, item in doc["paths"].items():
        assert template.startswith("/")
        assert set(item) <= HTTP_METHODS
        for method, operation in item.items():
            where = f"{method.upper()} {template}"
            assert set(operation) <= OPERATION_FIELDS, where
            operation_ids.append(operation["operationId"])
            assert set(operation["tags"]) <= tags, where
            check_parameters(template, operation.get("parameters", []))
            assert operation["responses"], where
            for status, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5](\d\d|XX)|default", status), where
                described = resolve(response["$ref"]) if "$ref" in response else response
                assert isinstance(described["description"], str), where
            if "requestBody" in operation:
                assert "application/json" in operation["requestBody"]["content"], where
            for requirement in operation.get("security", doc["security"]):
                assert set(requirement) <= set(schemes), where
    assert len(operation_ids) == len(set(operation_ids))


def check_parameters(template: str, parameters: list[dict[str, Any]]) -> None:
    in_path = set(re.findall(r"\{(\w+)\}", template))
    assert {p["name"] for p in parameters if p["in"] == "path"} == in_path, template
    for parameter in parameters:
        assert parameter["in"] in {"query", "header", "path", "cookie"}
        assert ("schema" in parameter) != ("content" in parameter)
        Draft202012Validator.check_schema(parameter["schema"])
        if parameter["in"] == "path":
            assert parameter["required"] is True


# One real request per documented operation that gets its success answer.
SCENARIOS: dict[str, Callable[[DataSource], Request]] = {
    "getOpenApiDocument": lambda source: ("get", "/api/openapi.json", None, 200),
    "listJobs": lambda source: ("get", f"/api/jobs/?status={draft(source).status}", None, 200),
    "createJob": lambda source: ("post", "/api/jobs/", {"source": source.pk}, 201),
    "getJob": lambda source: ("get", f"/api/jobs/{make_job(source, 'draft').pk}", None, 200),
    "listJobRows": lambda source: (
        "get", f"/api/jobs/{make_job(source, 'draft').pk}/rows", None, 200
    ),
    "getJobPreview": lambda source: (
        "get", f"/api/jobs/{make_job(source, 'previewed').pk}/preview", None, 200
    ),
    "startJobPreview": lambda source: (
        "post", f"/api/jobs/{make_job(source, 'draft').pk}/preview", None, 202
    ),
    "getJobProgress": lambda source: (
        "get", f"/api/jobs/{make_job(source, 'running').pk}/progress", None, 200
    ),
    "getJobRecovery": lambda source: (
        "get", f"/api/jobs/{interrupted(source)}/recovery", None, 200
    ),
    "approveJob": lambda source: (
        "post", f"/api/jobs/{make_job(source, 'previewed').pk}/approve", {}, 202
    ),
    "resumeJob": lambda source: ("post", f"/api/jobs/{interrupted(source)}/resume", None, 202),
    "restartJob": lambda source: (
        "post", f"/api/jobs/{interrupted(source)}/restart", {"confirm_duplicates": True}, 201
    ),
    "cancelJob": lambda source: (
        "post", f"/api/jobs/{make_job(source, 'draft').pk}/cancel", {"reason": "Wrong file."}, 200
    ),
    "excludeInvalidRows": lambda source: (
        "post", f"/api/jobs/{with_invalid_row(source)}/exclude-invalid", None, 200
    ),
    "retryWriteback": lambda source: (
        "post", f"/api/jobs/{unwritten(source)}/retry-writeback", None, 200
    ),
    "fetchLabels": lambda source: (
        "post", f"/api/jobs/{make_job(source, 'completed', rows=('shipped',)).pk}/fetch-labels",
        None, 200,
    ),
    "decideUnknownRow": lambda source: ("post", unknown_row(source), {"shipped": False}, 200),
}  # fmt: skip


def draft(source: DataSource) -> Job:
    return make_job(source, "draft")


def interrupted(source: DataSource) -> int:
    return make_job(source, "interrupted", rows=("shipped", "pending", "pending")).pk


def with_invalid_row(source: DataSource) -> int:
    job = make_job(source, "draft")
    JobRow.objects.filter(job=job, row_number=2).update(is_valid=False, errors=[{"m": "x"}])
    return job.pk


def unwritten(source: DataSource) -> int:
    job = make_job(source, "completed_with_warnings", rows=("shipped",) * 3)
    JobRow.objects.filter(job=job).update(writeback_status="failed")
    return job.pk


def unknown_row(source: DataSource) -> str:
    job = make_job(source, "failed", rows=("shipped", "unknown", "pending"))
    row = JobRow.objects.get(job=job, row_number=2)
    return f"/api/jobs/{job.pk}/rows/{row.pk}/decide"


def test_every_documented_operation_has_a_scenario() -> None:
    documented = {
        op["operationId"] for item in document()["paths"].values() for op in item.values()
    }
    assert set(SCENARIOS) == documented


@pytest.mark.parametrize("operation_id", sorted(SCENARIOS))
def test_every_documented_operation_answers_as_documented(
    operation_id: str,
    api: ApiClient,
    source: DataSource,
    django_capture_on_commit_callbacks: Callable[..., Any],
    ups_sandbox: SandboxController,  # a "not shipped" decision looks the row up at UPS first
) -> None:
    method, path, body, expected = SCENARIOS[operation_id](source)
    found = operation_for(method, path.split("?")[0])
    assert found is not None
    assert found[1]["operationId"] == operation_id
    with django_capture_on_commit_callbacks(execute=False):
        response = api.get(path) if method == "get" else api.post(path, body)
    # ApiClient has validated the body against the document's schema for this status.
    assert response.status_code == expected, response.content


ERRORS: dict[str, Callable[[ApiClient], Any]] = {
    "401": lambda api: ApiClient(Client()).get("/api/jobs/"),
    "404 job": lambda api: api.get("/api/jobs/999999"),
    "404 url": lambda api: api.get("/api/nothing/here"),
    "405": lambda api: api.send("delete", "/api/jobs/"),
    "400": lambda api: api.get("/api/jobs/", {"page": "zero"}),
    "415": lambda api: api.client.post("/api/jobs/", "source=1", content_type="text/plain"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_have_one_shape(case: str, api: ApiClient) -> None:
    response = ERRORS[case](api)
    body = response.json()
    assert response.status_code == int(case.split()[0])
    assert set(body) == {"code", "message", "details"}
    assert isinstance(body["code"], str)
    assert body["code"]
    assert body["message"].endswith((".", "?")), body["message"]
    assert isinstance(body["details"], dict)
