"""The site's URLs plus the share-link ones, for tests, until config/urls.py mounts them.

Once it does (``path("", include("roadmap.sharing.urls_external"))`` and
``path("products/<slug:slug>/share/", include("roadmap.sharing.urls"))``) this adds nothing.
"""

from django.urls import include, path

from config.urls import urlpatterns as site_urlpatterns

_mounted = {getattr(p, "namespace", None) for p in site_urlpatterns}

urlpatterns = [
    *([] if "external" in _mounted else [path("", include("roadmap.sharing.urls_external"))]),
    *(
        []
        if "sharing" in _mounted
        else [path("products/<slug:slug>/share/", include("roadmap.sharing.urls"))]
    ),
    *site_urlpatterns,
]

handler400 = "config.views.bad_request"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
