from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from roadmap.evidence import api as evidence
from roadmap.integrations.api import WebhookDeliveryViewSet, WebhookEndpointViewSet
from roadmap.planning.api import views
from roadmap.strategy import api as strategy

router = DefaultRouter(trailing_slash=True)
# Products and releases with their strategy and launch operations (business case, checklist,
# readiness, ship): roadmap.strategy.api extends their viewsets.
router.register("products", strategy.ProductViewSet, basename="product")
router.register("features", views.FeatureViewSet, basename="feature")
router.register("personas", evidence.PersonaViewSet, basename="persona")
router.register("insights", evidence.InsightViewSet, basename="insight")
router.register("objectives", evidence.ObjectiveViewSet, basename="objective")
router.register("releases", strategy.ReleaseViewSet, basename="release")
router.register("lanes", views.LaneViewSet, basename="lane")
router.register("roadmap-items", views.RoadmapItemViewSet, basename="roadmap-item")
router.register("positionings", strategy.PositioningViewSet, basename="positioning")
router.register(
    "positioning-answers", strategy.PositioningAnswerViewSet, basename="positioning-answer"
)
router.register("competitors", strategy.CompetitorViewSet, basename="competitor")
router.register("comparisons", strategy.ComparisonViewSet, basename="comparison")
router.register("market-sizes", strategy.MarketSizeViewSet, basename="market-size")
router.register("revenue-models", strategy.RevenueModelViewSet, basename="revenue-model")
router.register("price-plans", strategy.PricePlanViewSet, basename="price-plan")
router.register(
    "launch-template-tasks", strategy.LaunchTemplateTaskViewSet, basename="launch-template-task"
)
router.register("launch-tasks", strategy.LaunchTaskViewSet, basename="launch-task")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]
