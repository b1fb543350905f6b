"""The operations of the OpenAPI document: one per routed URL and method."""

from __future__ import annotations

from typing import Any

from jobs.api.pagination import MAX_PAGE_SIZE, PAGE_SIZE
from jobs.api.schemas import ref
from jobs.services.label_recovery import FETCH_BUDGET_SECONDS
from jobs.states import JobStatus, RowStatus

ERROR_RESPONSES = {
    400: ("BadRequest", "The body or the query string is not what the operation takes."),
    401: ("Unauthorized", "Not logged in: log in with a staff account (session cookie)."),
    403: (
        "Forbidden",
        "Not staff, missing the permission the operation needs (`details.permission`: "
        "jobs.view_job to read jobs and rows, which jobs.change_job also grants; "
        "jobs.add_job, jobs.change_job or jobs.approve_job to act), or no valid CSRF token on "
        "a POST.",
    ),
    404: ("NotFound", "No such job, row or page."),
    409: ("Conflict", "A business rule refused the action; `code` says which."),
    415: ("UnsupportedMediaType", "A body was sent that is not application/json."),
    502: ("BadGateway", "UPS did not answer as expected; try again later."),
    503: (
        "ServiceUnavailable",
        "queue_unavailable: the action was done, but the task queue could not take the job's "
        "task; the job is interrupted (a preview back to draft). Act on it again once the "
        "queue works.",
    ),
}
SUCCESS = {200: "OK.", 201: "Created.", 202: "Accepted: the work runs in the background."}
JOB_ID = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
    "description": "The job's id.",
}
ROW_ID = {**JOB_ID, "name": "row_id", "description": "The row's id (not its number)."}
PAGE_PARAMS = [
    {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "default": 1},
        "description": "The page, from 1.",
    },
    {
        "name": "page_size",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": PAGE_SIZE},
        "description": f"Items per page, {MAX_PAGE_SIZE} at most.",
    },
]


def status_param(values: list[str]) -> dict[str, Any]:
    """Return the repeatable ``status`` query parameter over ``values``."""
    return {
        "name": "status",
        "in": "query",
        "schema": {"type": "array", "items": {"enum": values}},
        "description": "Only these statuses; repeat the parameter for several.",
    }


def operation(
    operation_id: str,
    summary: str,
    *,
    ok: int,
    schema: str,
    tag: str,
    errors: tuple[int, ...] = (),
    params: tuple[dict[str, Any], ...] = (),
    body: str | None = None,
    description: str = "",
) -> dict[str, Any]:
    """Return one operation; every one may answer 400 (an unknown query parameter), 401 and
    403, every POST 409/415/502 too."""
    codes = {400, 401, 403, *errors} | ({400, 409, 415, 502} if body else set())
    responses: dict[str, Any] = {
        str(ok): {
            "description": SUCCESS[ok],
            "content": {"application/json": {"schema": ref(schema)}},
        }
    }
    for code in sorted(codes):
        responses[str(code)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[code][0]}"}
    result: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": responses,
    }
    if description:
        result["description"] = description
    if params:
        result["parameters"] = list(params)
    if body:
        result["requestBody"] = {"content": {"application/json": {"schema": ref(body)}}}
        result["security"] = [{"session": [], "csrf": []}]
    return result


def action(
    operation_id: str,
    summary: str,
    *,
    ok: int = 200,
    schema: str = "Job",
    body: str = "Empty",
    params: tuple[dict[str, Any], ...] = (),
    description: str = "",
    queues: bool = False,
) -> dict[str, Any]:
    """Return a POST on one job (404 when it does not exist; the body may be left out).

    ``queues``: the action queues a task, so it may answer 503 queue_unavailable.
    """
    return operation(
        operation_id,
        summary,
        ok=ok,
        schema=schema,
        tag="actions",
        errors=(404, 503) if queues else (404,),
        params=(JOB_ID, *params),
        body=body,
        description=description,
    )


# Every read of jobs and rows: the admin shows them only to those who may view jobs.
NEEDS_VIEW = "Needs jobs.view_job (or jobs.change_job): 403 permission_denied without it."


def listing(
    operation_id: str, summary: str, *, schema: str, tag: str, params: tuple[dict[str, Any], ...]
) -> dict[str, Any]:
    """Return a paginated GET (400 for bad paging or filters, 404 past the last page)."""
    return operation(
        operation_id,
        summary,
        ok=200,
        schema=schema,
        tag=tag,
        errors=(400, 403, 404),
        params=(*params, *PAGE_PARAMS),
        description=NEEDS_VIEW,
    )


def reading(operation_id: str, summary: str, *, schema: str) -> dict[str, Any]:
    """Return a GET on one job (404 when it does not exist)."""
    return operation(
        operation_id,
        summary,
        ok=200,
        schema=schema,
        tag="jobs",
        errors=(403, 404),
        params=(JOB_ID,),
        description=NEEDS_VIEW,
    )


PATHS: dict[str, dict[str, Any]] = {
    "/api/jobs/": {
        "get": listing(
            "listJobs",
            "List jobs, newest first",
            schema="JobPage",
            tag="jobs",
            params=(status_param(JobStatus.values),),
        ),
        "post": operation(
            "createJob",
            "Create a job from a data source",
            ok=201,
            schema="Job",
            tag="jobs",
            body="JobCreate",
            errors=(503,),
            description="Reads and validates every source row. In auto mode (needs "
            "jobs.approve_job) a job without invalid rows is approved and queued at once.",
        ),
    },
    "/api/jobs/{job_id}": {"get": reading("getJob", "One job", schema="Job")},
    "/api/jobs/{job_id}/rows": {
        "get": listing(
            "listJobRows",
            "A job's rows in source order",
            schema="RowPage",
            tag="rows",
            params=(JOB_ID, status_param(RowStatus.values)),
        )
    },
    "/api/jobs/{job_id}/preview": {
        "get": reading("getJobPreview", "The first 20 rows and the totals", schema="Preview"),
        "post": action(
            "startJobPreview", "Rate every row and check addresses", ok=202, queues=True
        ),
    },
    "/api/jobs/{job_id}/progress": {
        "get": reading("getJobProgress", "How far the job has come", schema="JobProgress")
    },
    "/api/jobs/{job_id}/recovery": {
        "get": reading("getJobRecovery", "Where a stopped job stopped", schema="Recovery")
    },
    "/api/jobs/{job_id}/approve": {
        "post": action(
            "approveJob",
            "Approve and queue the job",
            ok=202,
            body="Approve",
            queues=True,
            description="Needs jobs.approve_job. `switch_to_auto` also puts this session in "
            "auto mode for later jobs (refused with 409 mode_locked while its batch runs).",
        )
    },
    "/api/jobs/{job_id}/resume": {
        "post": action("resumeJob", "Reconcile unknown rows, then continue", ok=202, queues=True)
    },
    "/api/jobs/{job_id}/restart": {
        "post": action(
            "restartJob",
            "Cancel the job and ship its rows as a new job",
            ok=201,
            body="Restart",
            queues=True,
            description="Needs jobs.approve_job. When rows already shipped, refused with 409 "
            "restart_needs_confirmation (the message is the warning) unless confirm_duplicates "
            "or void_first. While rows have an unknown outcome, refused with 409 "
            "restart_unknown_rows (details.rows: row numbers): resume or decide them first. "
            "Answers with the new job.",
        )
    },
    "/api/jobs/{job_id}/cancel": {"post": action("cancelJob", "Cancel the job", body="Cancel")},
    "/api/jobs/{job_id}/exclude-invalid": {
        "post": action("excludeInvalidRows", "Leave rows with errors out", schema="Excluded")
    },
    "/api/jobs/{job_id}/retry-writeback": {
        "post": action("retryWriteback", "Write tracking numbers back to the source again")
    },
    "/api/jobs/{job_id}/fetch-labels": {
        "post": action(
            "fetchLabels",
            "Fetch from UPS the labels of shipped rows that have none",
            schema="LabelsFetched",
            description="Rows shipped without a label in ShipOps (UPS's answer was lost) get "
            "it from UPS's Label Recovery, each number checked at UPS first, for "
            f"{FETCH_BUDGET_SECONDS:g} s at most per call. 409 nothing_to_fetch when every "
            "shipped row has its label. Needs jobs.change_job.",
        )
    },
    "/api/jobs/{job_id}/rows/{row_id}/decide": {
        "post": action(
            "decideUnknownRow",
            "Settle a row whose outcome is unknown",
            schema="Row",
            body="RowDecision",
            params=(ROW_ID,),
        )
    },
    "/api/openapi.json": {
        "get": operation(
            "getOpenApiDocument", "This document", ok=200, schema="Document", tag="meta"
        )
    },
}
