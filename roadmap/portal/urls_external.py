"""The portal's outsider URLs at the site root, beside the share link's (no login): vote,
withdraw a vote, request something, "mine", and the links of the emails (confirm, unsubscribe)."""

from django.urls import path

from roadmap.portal import views_external

app_name = "portal"

urlpatterns = [
    path("r/<str:token>/vote/", views_external.vote, name="vote"),
    path("r/<str:token>/vote/withdraw/", views_external.vote_withdraw, name="vote_withdraw"),
    path("r/<str:token>/request/", views_external.request_create, name="request"),
    path("r/<str:token>/mine/", views_external.mine, name="mine"),
    path("portal/confirm/<str:token>/", views_external.confirm, name="confirm"),
    path("portal/unsubscribe/<str:token>/", views_external.unsubscribe, name="unsubscribe"),
]
