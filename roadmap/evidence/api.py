"""API of evidence: personas, customer insights and objectives, CRUD on the generic pieces of
``roadmap.api`` with every write through the evidence services."""

from rest_framework import serializers

from roadmap.api.serializers import ProductChildSerializer
from roadmap.api.viewsets import product_record_viewset
from roadmap.evidence import services as evidence_services
from roadmap.models import Feature, Insight, Objective, Persona

# --- Serializers ---------------------------------------------------------------------------------


class PersonaSerializer(ProductChildSerializer):
    class Meta:
        model = Persona
        fields = [
            "id",
            "product",
            "name",
            "segment",
            "description",
            "goals",
            "pains",
            "segment_size",
            "created_at",
            "updated_at",
        ]
        validators = []


class InsightSerializer(ProductChildSerializer):
    features = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Feature.objects.all(), required=False
    )
    persona = serializers.PrimaryKeyRelatedField(
        queryset=Persona.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Insight
        fields = [
            "id",
            "product",
            "source",
            "customer",
            "persona",
            "text",
            "observed_on",
            "importance",
            "features",
            "created_at",
            "updated_at",
        ]


class ObjectiveSerializer(ProductChildSerializer):
    features = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Feature.objects.all(), required=False
    )
    progress = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Objective
        fields = [
            "id",
            "product",
            "name",
            "description",
            "metric",
            "unit",
            "baseline",
            "target",
            "current",
            "progress",
            "due",
            "features",
            "created_at",
            "updated_at",
        ]


# --- Endpoints -----------------------------------------------------------------------------------

PersonaViewSet = product_record_viewset(
    Persona,
    PersonaSerializer,
    evidence_services.persona_save,
    delete=evidence_services.persona_delete,
)
InsightViewSet = product_record_viewset(
    Insight,
    InsightSerializer,
    evidence_services.insight_save,
    delete=evidence_services.insight_delete,
    filter_fields=("source", "persona", "customer"),
    m2m=("features",),
    extra=lambda request: {"created_by": request.user},
)
ObjectiveViewSet = product_record_viewset(
    Objective, ObjectiveSerializer, evidence_services.objective_save, m2m=("features",)
)
