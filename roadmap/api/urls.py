from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from . import views
from .webhooks import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = DefaultRouter(trailing_slash=True)
router.register("products", views.ProductViewSet, basename="product")
router.register("features", views.FeatureViewSet, basename="feature")
router.register("personas", views.PersonaViewSet, basename="persona")
router.register("insights", views.InsightViewSet, basename="insight")
router.register("objectives", views.ObjectiveViewSet, basename="objective")
router.register("releases", views.ReleaseViewSet, basename="release")
router.register("lanes", views.LaneViewSet, basename="lane")
router.register("roadmap-items", views.RoadmapItemViewSet, basename="roadmap-item")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]
