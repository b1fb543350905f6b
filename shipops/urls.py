from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

# Labels (MEDIA_ROOT) are never served as public files: they hold recipients'
# addresses, so only staff views stream them.
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("jobs.api.urls")),
]
