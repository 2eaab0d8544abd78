from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from config import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("roadmap.api.urls")),
    # The split view serves its script as a file, so the CSP needs no inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="api-docs"),
    path("digests/", include("roadmap.sharing.urls_digests")),
    path("settings/webhooks/", include("roadmap.integrations.urls_webhooks")),
    path("products/<slug:slug>/share/", include("roadmap.sharing.urls")),
    path("", include("roadmap.sharing.urls_external")),
    path("", include("roadmap.portal.urls_external")),
    path("", include("roadmap.portal.urls_embed")),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("", include("roadmap.urls")),
]

handler400 = "config.views.bad_request"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
