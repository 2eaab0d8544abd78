from django.urls import include, path

from .views import pages

app_name = "roadmap"

urlpatterns = [
    path("", pages.home, name="home"),
    path("features/<int:pk>/", pages.feature, name="feature"),
    # Each area of the planning app keeps its routes in its own module.
    path("", include("roadmap.urls_table")),
    path("", include("roadmap.urls_planning")),
    path("", include("roadmap.urls_records")),
    path("", include("roadmap.urls_csvio")),
]
