from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter, SimpleRouter

from roadmap.evidence import api as evidence
from roadmap.integrations.api import WebhookDeliveryViewSet, WebhookEndpointViewSet
from roadmap.planning.api import rating, views
from roadmap.portal import api as portal
from roadmap.strategy import api as strategy

router = DefaultRouter(trailing_slash=True)
# Products and releases with their strategy and launch operations (business case, checklist,
# readiness, ship): roadmap.strategy.api extends their viewsets.
router.register("products", strategy.ProductViewSet, basename="product")
router.register("features", views.FeatureViewSet, basename="feature")
router.register("personas", evidence.PersonaViewSet, basename="persona")
router.register("insights", evidence.InsightViewSet, basename="insight")
router.register("objectives", evidence.ObjectiveViewSet, basename="objective")
router.register("customers", evidence.CustomerViewSet, basename="customer")
router.register("experiments", evidence.ExperimentViewSet, basename="experiment")
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

# What lives under one product: /products/<slug>/requests/, votes/ and rating-rounds/.
product_router = SimpleRouter(trailing_slash=True)
product_router.register("requests", portal.StakeholderRequestViewSet, basename="product-request")
product_router.register("votes", portal.VoteViewSet, basename="product-vote")
product_router.register("rating-rounds", rating.RatingRoundViewSet, basename="product-rating-round")

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("products/<slug:product_slug>/", include(product_router.urls)),
    path("", include(router.urls)),
]
