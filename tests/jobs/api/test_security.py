"""Who may call what: staff only, the approve permission, and CSRF on every write."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from datasources.models import DataSource
from jobs.models import AuditEntry, Job, JobRow
from tests.factories import UserFactory
from tests.jobs.api.conftest import make_job
from tests.jobs.api.contract import ApiClient, document

pytestmark = pytest.mark.django_db

# Every documented operation, and a URL no view answers, with made-up ids: access is
# checked before anything is looked up.
EVERY_URL = sorted(
    [
        (method, path.replace("{job_id}", "1").replace("{row_id}", "1"))
        for path, item in document()["paths"].items()
        for method in item
    ]
    + [("get", "/api/nowhere")]
)


@pytest.mark.parametrize(("method", "path"), EVERY_URL)
def test_every_url_refuses_anonymous_users(method: str, path: str, client: Client) -> None:
    response = ApiClient(client).send(method, path)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["details"]["login_url"] == reverse("admin:login")
    assert "WWW-Authenticate" in response


@pytest.mark.parametrize(("method", "path"), EVERY_URL)
def test_every_url_refuses_users_who_are_not_staff(method: str, path: str, client: Client) -> None:
    client.force_login(UserFactory.create(is_staff=False, is_superuser=True))
    response = ApiClient(client).send(method, path)

    assert response.status_code == 403
    assert response.json()["code"] == "not_staff"


def test_an_inactive_staff_user_is_anonymous(client: Client) -> None:
    client.force_login(UserFactory.create(is_active=False))
    response = ApiClient(client).get("/api/jobs/")

    assert response.status_code == 401


def test_approve_needs_the_permission(clerk_api: ApiClient, source: DataSource) -> None:
    job = make_job(source, "previewed")
    response = clerk_api.post(f"/api/jobs/{job.pk}/approve")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    job.refresh_from_db()
    assert (job.status, job.approved_by) == ("previewed", None)


def test_restart_needs_the_permission_and_leaves_the_job_alone_without_it(
    clerk_api: ApiClient, source: DataSource
) -> None:
    job = make_job(source, "interrupted", rows=("shipped", "pending", "pending"))
    response = clerk_api.post(f"/api/jobs/{job.pk}/restart", {"confirm_duplicates": True})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    job.refresh_from_db()
    assert job.status == "interrupted"
    assert Job.objects.count() == 1
    assert not AuditEntry.objects.filter(job=job).exists()


def test_creating_an_auto_mode_job_needs_the_permission(
    clerk_api: ApiClient, source: DataSource
) -> None:
    response = clerk_api.post("/api/jobs/", {"source": source.pk, "mode": "auto"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Job.objects.exists()


def test_an_operator_without_the_approve_permission_creates_previews_and_cancels(
    clerk_api: ApiClient, clerk: User, source: DataSource
) -> None:
    created = clerk_api.post("/api/jobs/", {"source": source.pk})
    job_id = created.json()["id"]
    previewed = clerk_api.post(f"/api/jobs/{job_id}/preview")
    cancelled = clerk_api.post(f"/api/jobs/{job_id}/cancel")

    assert [created.status_code, previewed.status_code, cancelled.status_code] == [201, 202, 200]
    assert created.json()["created_by"] == clerk.username
    assert cancelled.json()["status"] == "cancelled"


# Every POST, and the permission the admin asks for the same action.
WRITES = sorted(
    {
        "/api/jobs/": "jobs.add_job",
        "/api/jobs/{job_id}/preview": "jobs.change_job",
        "/api/jobs/{job_id}/resume": "jobs.change_job",
        "/api/jobs/{job_id}/cancel": "jobs.change_job",
        "/api/jobs/{job_id}/exclude-invalid": "jobs.change_job",
        "/api/jobs/{job_id}/retry-writeback": "jobs.change_job",
        "/api/jobs/{job_id}/fetch-labels": "jobs.change_job",
        "/api/jobs/{job_id}/approve": "jobs.approve_job",
        "/api/jobs/{job_id}/restart": "jobs.approve_job",
        "/api/jobs/{job_id}/rows/{row_id}/decide": "jobs.approve_job",
    }.items()
)


def test_every_write_is_listed_with_its_permission() -> None:
    posts = {path for path, item in document()["paths"].items() if "post" in item}
    assert posts == {path for path, _ in WRITES}


@pytest.mark.parametrize(("path", "permission"), WRITES)
def test_staff_who_may_only_look_change_nothing(
    path: str, permission: str, client: Client, source: DataSource
) -> None:
    # The same staff user is refused the same action in the admin.
    job = make_job(source, "interrupted", rows=("shipped", "unknown", "pending"))
    unknown = JobRow.objects.get(job=job, status="unknown")
    client.force_login(viewer_user("vic"))
    before = (AuditEntry.objects.count(), Job.objects.count(), job.status)

    url = path.format(job_id=job.pk, row_id=unknown.pk)
    body = {"source": source.pk} if path == "/api/jobs/" else {}
    response = ApiClient(client).post(url, body)

    assert response.status_code == 403
    assert response.json()["details"] == {"permission": permission}
    job.refresh_from_db()
    assert (AuditEntry.objects.count(), Job.objects.count(), job.status) == before


def script_login(client: Client, user: User) -> str:
    """Log in the way docs/api.md tells scripts to; return the CSRF token to send."""
    login = reverse("admin:login")
    client.get(login)
    response = client.post(
        login,
        {
            "username": user.username,
            "password": "correct horse battery",
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    return client.cookies["csrftoken"].value


def test_writes_without_a_csrf_token_are_refused(approver: User, source: DataSource) -> None:
    client = Client(enforce_csrf_checks=True)
    token = script_login(client, approver)
    job = make_job(source, "previewed")
    url = f"/api/jobs/{job.pk}/approve"

    refused = client.post(url, "{}", content_type="application/json")
    wrong = client.post(
        url, "{}", content_type="application/json", headers={"X-CSRFToken": "x" * 32}
    )
    job.refresh_from_db()
    assert (refused.status_code, wrong.status_code, job.status) == (403, 403, "previewed")

    accepted = ApiClient(client).post(url, {}, X_CSRFToken=token)
    assert accepted.status_code == 202
    assert accepted.json()["status"] == "approved"


def test_reads_need_no_csrf_token(approver: User, source: DataSource) -> None:
    client = Client(enforce_csrf_checks=True)
    script_login(client, approver)
    job = make_job(source, "draft")

    assert ApiClient(client).get(f"/api/jobs/{job.pk}").status_code == 200


def test_the_csrf_failure_view_answers_api_urls_in_the_error_shape(
    settings: LazySettings, approver: User, source: DataSource
) -> None:
    # Live once settings.py names it as CSRF_FAILURE_VIEW (see docs/api.md).
    settings.CSRF_FAILURE_VIEW = "jobs.api.http.csrf_failure"
    client = Client(enforce_csrf_checks=True)
    script_login(client, approver)
    job = make_job(source, "previewed")

    api = client.post(f"/api/jobs/{job.pk}/approve", "{}", content_type="application/json")
    admin = client.post(reverse("admin:logout"))
    assert api.status_code == 403
    assert api.json()["code"] == "csrf_failed"
    assert set(api.json()) == {"code", "message", "details"}
    assert admin.status_code == 403
    assert admin["Content-Type"].startswith("text/html")
    assert JobRow.objects.filter(job=job, status="pending").count() == 3


def viewer_user(username: str) -> User:
    """Return staff who may only look at jobs: "view job", as the admin's read-only users."""
    user = UserFactory.create(username=username)
    user.user_permissions.add(Permission.objects.get(codename="view_job"))
    return user


# Every GET that shows jobs or rows, with the ids filled in by the test.
READS = sorted(
    path
    for path, item in document()["paths"].items()
    if "get" in item and path != "/api/openapi.json"
)


def test_every_read_of_jobs_documents_its_403() -> None:
    assert "/api/jobs/" in READS
    for path in READS:
        assert "403" in document()["paths"][path]["get"]["responses"], path


@pytest.mark.parametrize("path", READS)
def test_staff_without_the_view_permission_see_no_job_or_recipient(
    path: str, client: Client, source: DataSource
) -> None:
    # The admin refuses the same user the job's page, its labels and its exports (403).
    job = make_job(source, "interrupted", rows=("shipped", "failed", "pending"))
    client.force_login(UserFactory.create(username="nobody"))

    response = ApiClient(client).get(path.format(job_id=job.pk))

    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "You may not see jobs or their rows: ask an administrator for the “view job” "
        "permission.",
        "details": {"permission": "jobs.view_job"},
    }
    assert b"Customer" not in response.content


@pytest.mark.parametrize("codename", ["view_job", "change_job"])
@pytest.mark.parametrize("path", READS)
def test_staff_who_may_view_jobs_read_them(
    path: str, codename: str, client: Client, source: DataSource
) -> None:
    # As in the admin, "change job" lets a user see jobs too.
    job = make_job(source, "interrupted", rows=("shipped", "failed", "pending"))
    user = UserFactory.create(username="vic")
    user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)

    assert ApiClient(client).get(path.format(job_id=job.pk)).status_code == 200


def test_the_view_permission_is_checked_before_the_job_is_looked_up(
    client: Client,
) -> None:
    client.force_login(UserFactory.create(username="nobody"))
    api = ApiClient(client)

    assert api.get("/api/jobs/999999").status_code == 403  # not 404: nothing is told
    assert api.get("/api/jobs/", {"stauts": "failed"}).status_code == 403


def test_staff_without_permissions_still_get_the_document_and_json_404s(client: Client) -> None:
    client.force_login(UserFactory.create(username="nobody"))
    api = ApiClient(client)

    assert api.get("/api/openapi.json").status_code == 200
    assert api.get("/api/nowhere").json()["code"] == "not_found"
