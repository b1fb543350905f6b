"""The staff JSON API, mounted at /api/ (every route is in the OpenAPI document)."""

from django.urls import path, re_path

from jobs.api import views_actions, views_jobs
from jobs.api.openapi import OpenApiView

app_name = "api"

urlpatterns = [
    path("openapi.json", OpenApiView.as_view(), name="openapi"),
    path("jobs/", views_jobs.JobListView.as_view(), name="job-list"),
    path("jobs/<int:job_id>", views_jobs.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/rows", views_jobs.JobRowsView.as_view(), name="job-rows"),
    path("jobs/<int:job_id>/preview", views_jobs.JobPreviewView.as_view(), name="job-preview"),
    path("jobs/<int:job_id>/progress", views_jobs.JobProgressView.as_view(), name="job-progress"),
    path("jobs/<int:job_id>/recovery", views_jobs.JobRecoveryView.as_view(), name="job-recovery"),
    path("jobs/<int:job_id>/approve", views_actions.ApproveView.as_view(), name="job-approve"),
    path("jobs/<int:job_id>/resume", views_actions.ResumeView.as_view(), name="job-resume"),
    path("jobs/<int:job_id>/restart", views_actions.RestartView.as_view(), name="job-restart"),
    path("jobs/<int:job_id>/cancel", views_actions.CancelView.as_view(), name="job-cancel"),
    path(
        "jobs/<int:job_id>/exclude-invalid",
        views_actions.ExcludeInvalidView.as_view(),
        name="job-exclude-invalid",
    ),
    path(
        "jobs/<int:job_id>/retry-writeback",
        views_actions.RetryWritebackView.as_view(),
        name="job-retry-writeback",
    ),
    path(
        "jobs/<int:job_id>/fetch-labels",
        views_actions.FetchLabelsView.as_view(),
        name="job-fetch-labels",
    ),
    path(
        "jobs/<int:job_id>/rows/<int:row_id>/decide",
        views_actions.RowDecideView.as_view(),
        name="row-decide",
    ),
    # Last: any other URL under /api/ answers a JSON 404 (after the staff check).
    re_path(r"^", views_jobs.NotFoundView.as_view(), name="not-found"),
]
