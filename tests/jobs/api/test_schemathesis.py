"""Schemathesis against the live API in-process: no 5xx, no answer that breaks the document.

Every operation of /api/openapi.json gets generated requests (valid and
invalid bodies, query strings and path ids) sent through Django's WSGI app
with a logged-in staff session and its CSRF token, as a dashboard would. The
answers must not be server errors and must match the document: status code,
content type, headers and body schema. The longer standalone run is in
docs/reliability.md.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.parameters import ParameterLocation

from datasources.models import DataSource
from jobs.api.openapi import openapi_document
from tests.jobs.api.conftest import make_job

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CHECKED_INPUTS = {ParameterLocation.BODY, ParameterLocation.QUERY}
# The suite's quick run; docs/reliability.md has the long one (SHIPOPS_FUZZ_EXAMPLES=500).
EXAMPLES = int(os.environ.get("SHIPOPS_FUZZ_EXAMPLES", "15"))


@dataclass(frozen=True)
class StaffSession:
    """A logged-in staff session: its cookies, and the CSRF header every POST carries."""

    cookies: dict[str, str]
    headers: dict[str, str]
    client: Client


@pytest.fixture
def staff(approver: User) -> StaffSession:
    client = Client()
    client.force_login(approver)
    token = get_random_string(32)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return StaffSession(
        cookies={settings.SESSION_COOKIE_NAME: session, settings.CSRF_COOKIE_NAME: token},
        headers={"X-CSRFToken": token},
        client=client,
    )


@contextmanager
def keeping_test_connection() -> Iterator[None]:
    """Keep the test's database connection across WSGI calls, as Django's test client does.

    Calls go through the real WSGI app, whose request signals would otherwise
    close the connection that holds the test's transaction (PostgreSQL). The
    test client reconnects the handler after each of its own requests, so this
    wraps only the fuzzing.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(
    staff: StaffSession,
    orders_csv: Callable[..., DataSource],
    ups_sandbox: Any,
) -> Target:
    """The document as the app serves it to staff, run against the WSGI app, some jobs in it."""
    source = orders_csv(3)
    jobs = [
        make_job(source, status, rows)
        for status, rows in (
            ("draft", ("pending",) * 3),
            ("failed", ("shipped", "unknown", "pending")),
            ("completed", ("shipped",) * 3),
        )
    ]
    served = staff.client.get("/api/openapi.json")
    assert served.status_code == 200
    loaded = schemathesis.openapi.from_dict(served.json())
    loaded.app = get_wsgi_application()  # calls go through Django in this process
    return Target(loaded, [(row.job_id, row.pk) for job in jobs for row in job.rows.all()])


@dataclass(frozen=True)
class Target:
    """The loaded schema, and (job id, row id) pairs that exist."""

    schema: Any
    rows: list[tuple[int, int]]

    def strategy(self, method: str, path: str) -> st.SearchStrategy[Any]:
        """Valid and invalid requests, on random ids and on the ids of real jobs and rows."""
        operation = self.schema[path][method]
        modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        strategies = [operation.as_strategy(mode) for mode in modes]
        if "{job_id}" in path:
            for job_id, row_id in self.rows:
                ids = {"job_id": job_id, "row_id": row_id} if "{row_id}" in path else {}
                ids.setdefault("job_id", job_id)
                strategies += [operation.as_strategy(mode, path_parameters=ids) for mode in modes]
        return st.one_of(strategies)


OPERATIONS = [
    (method.upper(), path)
    for path, item in openapi_document()["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
]


def _unsent_query_value(case: Any) -> bool:
    """Whether the case's query holds a parameter with no value at all (``{"": []}``): it
    is left out of the URL, so the request sent may well be one the document allows."""
    return any(value == [] for value in (case.query or {}).values())


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_api_answers_match_the_document(
    api_schema: Target, staff: StaffSession, method: str, path: str
) -> None:

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=api_schema.strategy(method, path))
    def answers_match(case: Any) -> None:
        response = case.call_and_validate(
            headers=staff.headers, cookies=staff.cookies, checks=CHECKS
        )
        seen[response.status_code] += 1
        mutated = getattr(case.meta.phase.data, "parameter_location", None)
        if (
            case.meta.generation.mode == GenerationMode.NEGATIVE
            and mutated in CHECKED_INPUTS
            and not _unsent_query_value(case)
        ):
            # A body or query string that breaks the document is refused, never acted on
            # (the session cookie and CSRF header are sent anyway, so those are not judged).
            assert response.status_code >= 400, (mutated, case.body, case.query)
        if case.meta.generation.mode == GenerationMode.POSITIVE:
            # Negative cases may leave the session or the CSRF header out on purpose.
            assert response.status_code != 401, "the staff session did not reach the view"
            assert response.json().get("code") != "csrf_failed", "the CSRF header was lost"

    seen: Counter[int] = Counter()
    with keeping_test_connection():
        answers_match()
    # Not only the door: the requests reached the views' own checks and answers.
    assert set(seen) - {401, 403}, seen
