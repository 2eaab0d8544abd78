"""API of evidence: personas, customer insights and objectives, CRUD on the generic pieces of
``roadmap.api`` with every write through the evidence services."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from roadmap.api.serializers import ProductChildSerializer, StrictMixin
from roadmap.api.viewsets import ERRORS, product_record_viewset
from roadmap.evidence import services as evidence_services
from roadmap.models import Customer, Experiment, Feature, Insight, Objective, Persona

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


# --- Customers and experiments -------------------------------------------------------------------


class DomainsField(serializers.ListField):
    """A customer's email domains, as a list of names (``acme.com``), sorted."""

    child = serializers.CharField(max_length=253)

    def get_attribute(self, instance):
        return sorted(d.domain for d in instance.domains.all())


class CustomerSerializer(ProductChildSerializer):
    domains = DomainsField(
        required=False, help_text="Email domains: addresses at them belong to this customer."
    )
    persona = serializers.PrimaryKeyRelatedField(
        queryset=Persona.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "product",
            "name",
            "segment",
            "persona",
            "annual_revenue",
            "domains",
            "created_at",
            "updated_at",
        ]


class CustomerMergeSerializer(StrictMixin, serializers.Serializer):
    into = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.none(), help_text="The customer that stays."
    )


class ExperimentSerializer(ProductChildSerializer):
    features = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Feature.objects.all(), required=False
    )

    class Meta:
        model = Experiment
        fields = [
            "id",
            "product",
            "hypothesis",
            "method",
            "audience",
            "result",
            "decision",
            "started_on",
            "ended_on",
            "features",
            "created_at",
            "updated_at",
        ]


_CustomerRecords = product_record_viewset(
    Customer,
    CustomerSerializer,
    lambda **kw: evidence_services.customer_save(**kw),
    delete=lambda **kw: evidence_services.customer_delete(**kw),
    filter_fields=("segment", "persona"),
    m2m=("domains",),
)


class CustomerViewSet(_CustomerRecords):
    @extend_schema(
        summary="Merge the customer (a duplicate) into another: its domains, insights and "
        "contacts move there",
        request=CustomerMergeSerializer,
        responses={200: CustomerSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        customer = self.get_object()
        form = CustomerMergeSerializer(data=request.data)
        form.fields["into"].queryset = Customer.objects.filter(product_id=customer.product_id)
        form.is_valid(raise_exception=True)
        survivor = evidence_services.customer_merge(
            customer=customer, into=form.validated_data["into"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=survivor.pk)).data)


ExperimentViewSet = product_record_viewset(
    Experiment,
    ExperimentSerializer,
    lambda **kw: evidence_services.experiment_save(**kw),
    delete=lambda **kw: evidence_services.experiment_delete(**kw),
    filter_fields=("method", "decision"),
    m2m=("features",),
    extra=lambda request: {"created_by": request.user},
)
