from django.urls import path

from roadmap.integrations.views import webhooks

app_name = "webhooks"

urlpatterns = [
    path("", webhooks.endpoint_list, name="list"),
    path("new/", webhooks.endpoint_create, name="create"),
    path("<int:pk>/", webhooks.endpoint_edit, name="edit"),
    path("<int:pk>/rotate-secret/", webhooks.endpoint_rotate_secret, name="rotate_secret"),
    path("<int:pk>/delete/", webhooks.endpoint_delete, name="delete"),
    path("<int:pk>/deliveries/", webhooks.delivery_log, name="deliveries"),
    path("deliveries/<int:pk>/resend/", webhooks.delivery_resend, name="resend"),
]
