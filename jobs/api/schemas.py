"""The JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the API's bodies."""

from __future__ import annotations

from typing import Any

from jobs.states import JobMode, JobStatus, RowStatus, WritebackStatus

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
COUNT: Schema = {"type": "integer", "minimum": 0}
BOOLEAN: Schema = {"type": "boolean"}
OBJECT: Schema = {"type": "object"}
TIME: Schema = {"type": "string", "format": "date-time"}
MAYBE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}


def ref(name: str) -> Schema:
    """Return a reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """Return ``schema`` or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def closed(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """Return an object schema with exactly these properties, all required but ``optional``."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [name for name in properties if name not in optional],
        "properties": properties,
    }


def page_of(item: str) -> Schema:
    """Return the schema of a page of ``item`` objects."""
    link: Schema = {"type": ["string", "null"], "format": "uri-reference"}
    return closed(
        {
            "count": COUNT,
            "page": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer", "minimum": 1, "maximum": 200},
            "pages": {"type": "integer", "minimum": 1},
            "next": link,
            "previous": link,
            "results": {"type": "array", "items": ref(item)},
        }
    )


MESSAGES: Schema = {"type": "array", "items": OBJECT}
LAST_ERROR = closed(
    {
        "code": STRING,
        "message": STRING,
        "row_id": {"type": ["integer", "null"]},
        "row_number": {"type": ["integer", "null"]},
    }
)
PROGRESS: dict[str, Schema] = {
    "status": {"enum": JobStatus.values},
    "done": COUNT,
    "total": COUNT,
    "percent": {"type": "integer", "minimum": 0, "maximum": 100},
    "shipped": COUNT,
    "failed": COUNT,
}
ROW_FILTER = closed(
    {
        "column": STRING,
        "match": {"enum": ["equals", "contains"]},
        "value": STRING,
        "first_row": {"type": ["integer", "null"], "minimum": 1},
        "last_row": {"type": ["integer", "null"], "minimum": 1},
    },
    optional=("column", "match", "value", "first_row", "last_row"),
)
JOB_COUNTS = (
    "rows invalid previewed with_warnings shipped failed skipped writeback_failed already_shipped"
)

SCHEMAS: dict[str, Schema] = {
    "Error": closed({"code": STRING, "message": STRING, "details": OBJECT}),
    "Money": closed({"cents": INTEGER, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}),
    "RowFilter": ROW_FILTER,
    "Progress": closed(dict(PROGRESS)),
    "LastError": LAST_ERROR,
    "Job": closed(
        {
            "id": INTEGER,
            "status": {"enum": JobStatus.values},
            "status_label": STRING,
            "mode": {"enum": JobMode.values},
            "data_source": closed({"id": INTEGER, "name": STRING, "kind": STRING}),
            "filter": ROW_FILTER,
            "filter_description": STRING,
            "counts": closed(dict.fromkeys(JOB_COUNTS.split(), COUNT)),
            "estimated_cost": nullable(ref("Money")),
            "actual_cost": ref("Money"),
            "progress": ref("Progress"),
            "last_error": nullable(ref("LastError")),
            "resume_count": COUNT,
            "created_by": {"type": ["string", "null"]},
            "approved_by": {"type": ["string", "null"]},
            "created_at": TIME,
            **dict.fromkeys(("approved_at", "started_at", "finished_at"), MAYBE_TIME),
            "updated_at": TIME,
        }
    ),
    "JobPage": page_of("Job"),
    "Row": closed(
        {
            "id": INTEGER,
            "job_id": INTEGER,
            "number": {"type": "integer", "minimum": 1},
            "source_key": STRING,
            "status": {"enum": RowStatus.values},
            "recipient": STRING,
            "shipment": OBJECT,
            "is_valid": BOOLEAN,
            "errors": MESSAGES,
            "warnings": MESSAGES,
            "attempts": COUNT,
            "reference": STRING,
            "estimated_cost": nullable(ref("Money")),
            "actual_cost": nullable(ref("Money")),
            "tracking_number": {"type": ["string", "null"]},
            "shipment_id": {"type": ["string", "null"]},
            "has_label": BOOLEAN,
            "label_format": {"type": ["string", "null"]},
            "shipped_at": MAYBE_TIME,
            "error": nullable(closed({"code": STRING, "message": STRING})),
            "writeback": closed(
                {"status": {"enum": WritebackStatus.values}, "error": {"type": ["string", "null"]}}
            ),
            "updated_at": TIME,
        }
    ),
    "RowPage": page_of("Row"),
    "Preview": closed(
        {
            "lines": {
                "type": "array",
                "maxItems": 20,
                "items": closed(
                    {
                        "number": INTEGER,
                        "recipient": STRING,
                        "city_state": STRING,
                        "service": STRING,
                        "estimated_cost": nullable(ref("Money")),
                        "warning_count": COUNT,
                        "warnings": MESSAGES,
                        "errors": MESSAGES,
                    }
                ),
            },
            "more": COUNT,
            "total_rows": COUNT,
            "total_estimated_cost": nullable(ref("Money")),
            "rows_with_warnings": COUNT,
            "rows_with_errors": COUNT,
        }
    ),
    "JobProgress": closed(
        {
            "job_id": INTEGER,
            **PROGRESS,
            "status_label": STRING,
            "last_error": nullable(ref("LastError")),
            "updated_at": TIME,
        }
    ),
    "Recovery": closed(
        {
            "job_id": INTEGER,
            "status": {"enum": JobStatus.values},
            "headline": STRING,
            "last_error": {"type": ["string", "null"]},
            "shipped_rows": COUNT,
            "unknown_rows": COUNT,
            "restart_warning": {"type": ["string", "null"]},
            "restart_source_changes": {
                "type": "array",
                "items": STRING,
                "description": "Rows a restart would ship unpreviewed (changed in the source "
                "since the job read them) or not at all (gone from it), in sentences; empty "
                "when none, or when a restart is refused anyway.",
            },
            "token": {
                "type": "integer",
                "description": "The job's version for this warning: send it with the restart.",
            },
            "restart_refusal": {
                "type": ["string", "null"],
                "description": "Why a restart would be refused now whatever its flags "
                "(the 409's message: restart_unknown_rows, not_restartable), or null.",
            },
        }
    ),
    "Excluded": closed({"excluded": COUNT, "job": ref("Job")}),
    "LabelsFetched": closed(
        {
            "fetched": {
                "type": "array",
                "items": INTEGER,
                "description": "The row numbers whose label was fetched and stored.",
            },
            "not_found": {
                "type": "array",
                "items": closed(
                    {"row_number": INTEGER, "tracking_number": STRING, "reason": STRING}
                ),
                "description": "Rows UPS gave no label for: a number it does not know, or "
                "knows under another reference (another parcel's label), or a voided shipment.",
            },
            "not_fetched": {
                "type": "array",
                "items": INTEGER,
                "description": "Rows not fetched this time (UPS could not be asked, the time "
                "was up): post again.",
            },
            "not_fetched_reason": {**nullable(STRING), "description": "Why, if any were not."},
            "job": ref("Job"),
        }
    ),
    "JobCreate": closed(
        {
            "source": {"type": "integer", "description": "The data source's id."},
            "filter": {
                **nullable(ref("RowFilter")),
                "description": "Which rows the job takes; null (or leaving it out) takes "
                "every row. Anything but an object or null is refused.",
            },
            "mode": {
                "enum": JobMode.values,
                "description": "Defaults to the session's mode (confirm unless switched).",
            },
            "include_already_shipped": {"type": "boolean", "default": False},
        },
        optional=("filter", "mode", "include_already_shipped"),
    ),
    "Approve": closed(
        {"switch_to_auto": {"type": "boolean", "default": False}}, optional=("switch_to_auto",)
    ),
    "Restart": closed(
        {
            "confirm_duplicates": {"type": "boolean", "default": False},
            "void_first": {"type": "boolean", "default": False},
            "token": {
                "type": "integer",
                "description": "The recovery answer's token: the restart is refused with 409 "
                "restart_stale if the job ran since (it may have shipped rows the warning "
                "did not name).",
            },
        },
        optional=("confirm_duplicates", "void_first", "token"),
    ),
    "Cancel": closed({"reason": STRING}, optional=("reason",)),
    "RowDecision": closed(
        {"shipped": BOOLEAN, "tracking_number": {"type": "string", "minLength": 7}},
        optional=("tracking_number",),
    ),
    "Empty": closed({}),
}
