from django.urls import path

from roadmap.sharing.views import digests

app_name = "digests"

urlpatterns = [
    path("confirm/<str:token>/", digests.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", digests.unsubscribe, name="unsubscribe"),
]
