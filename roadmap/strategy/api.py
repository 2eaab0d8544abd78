"""API of strategy and launch: positioning, competitors, the comparison grid, market sizes, the
revenue model and price plans, the launch template and release checklists, plus the domain
operations on releases (create the checklist, readiness, ship) and products (business case).

Scoped by workspace like every other resource (``scoped``); writes need an editor (the launch
template: an admin) and a write-scoped token. Every rule is the services'.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from roadmap.api.permissions import ensure_can_edit
from roadmap.api.scoping import scoped
from roadmap.api.serializers import (
    MemberEmailField,
    ModelRulesSerializer,
    ProductChildSerializer,
    ProductSlugField,
    StrictMixin,
)
from roadmap.api.viewsets import (
    ERRORS,
    BooleanFilter,
    ProductChildFilter,
    ProductSlugFilter,
    ScopedViewSet,
    UpdatedSinceFilter,
    WorkspaceRecordWrites,
    data_without,
    product_record_viewset,
)
from roadmap.models import (
    Comparison,
    ComparisonStatus,
    Competitor,
    Feature,
    Insight,
    Lane,
    LaunchTask,
    LaunchTeam,
    LaunchTemplateTask,
    MarketSize,
    Persona,
    Positioning,
    PositioningAnswer,
    PositioningQuestion,
    PricePlan,
    Release,
    RevenueModel,
)
from roadmap.planning.api import views
from roadmap.planning.api.serializers import ReleaseSerializer
from roadmap.strategy.selectors import launch as launch_selectors
from roadmap.strategy.selectors import strategy as strategy_selectors
from roadmap.strategy.services import launch as launch_services
from roadmap.strategy.services import strategy as strategy_services

# --- Serializers ---------------------------------------------------------------------------------


class CompetitorSerializer(ProductChildSerializer):
    class Meta:
        model = Competitor
        fields = [
            "id",
            "product",
            "name",
            "website",
            "segment",
            "strengths",
            "weaknesses",
            "pricing_notes",
            "created_at",
            "updated_at",
        ]
        validators = []


class MarketSizeSerializer(ProductChildSerializer):
    class Meta:
        model = MarketSize
        fields = [
            "id",
            "product",
            "kind",
            "value",
            "source",
            "source_url",
            "as_of",
            "notes",
            "created_at",
            "updated_at",
        ]


class RevenueModelSerializer(ProductChildSerializer):
    class Meta:
        model = RevenueModel
        fields = [
            "id",
            "product",
            "currency",
            "conversion_rate",
            "notes",
            "created_at",
            "updated_at",
        ]
        validators = []


class PricePlanSerializer(ProductChildSerializer):
    persona = serializers.PrimaryKeyRelatedField(
        queryset=Persona.objects.all(),
        required=False,
        allow_null=True,
        help_text="The segment it is sold to; empty: every persona's segment.",
    )

    class Meta:
        model = PricePlan
        fields = [
            "id",
            "product",
            "name",
            "yearly_price",
            "persona",
            "conversion_rate",
            "created_at",
            "updated_at",
        ]
        validators = []


class PositioningAnswerSerializer(ProductChildSerializer):
    """One answer; ``product`` and ``question`` are chosen on create and fixed afterwards."""

    product = ProductSlugField(source="positioning.product")
    question = serializers.ChoiceField(choices=PositioningQuestion.choices)
    question_label = serializers.SerializerMethodField()
    insights = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Insight.objects.all(), required=False, help_text="Cited insights."
    )
    personas = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Persona.objects.all(), required=False, help_text="Cited personas."
    )
    updated_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = PositioningAnswer
        fields = [
            "id",
            "product",
            "question",
            "question_label",
            "text",
            "insights",
            "personas",
            "updated_by",
            "created_at",
            "updated_at",
        ]
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["question"].read_only = True

    def get_question_label(self, obj) -> str:
        return obj.get_question_display()


class PositioningSerializer(ProductChildSerializer):
    answers = PositioningAnswerSerializer(many=True, read_only=True)

    class Meta:
        model = Positioning
        fields = [
            "id",
            "product",
            "show_to_investors",
            "show_to_executives",
            "answers",
            "created_at",
            "updated_at",
        ]
        validators = []


class ComparisonSerializer(StrictMixin, ModelRulesSerializer):
    """One cell of the comparison grid: a competitor on a feature or (exclusive) a theme."""

    competitor = serializers.PrimaryKeyRelatedField(queryset=Competitor.objects.all())
    feature = serializers.PrimaryKeyRelatedField(
        queryset=Feature.objects.all(), required=False, allow_null=True
    )
    lane = serializers.PrimaryKeyRelatedField(
        queryset=Lane.objects.all(), required=False, allow_null=True, help_text="A theme."
    )

    class Meta:
        model = Comparison
        fields = [
            "id",
            "competitor",
            "feature",
            "lane",
            "status",
            "note",
            "created_at",
            "updated_at",
        ]
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            for name in ("competitor", "feature", "lane"):
                field = self.fields[name]
                field.queryset = scoped(field.queryset.model.objects.all(), request)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            for name in ("competitor", "feature", "lane"):
                self.fields[name].read_only = True


class LaunchTemplateTaskSerializer(StrictMixin, ModelRulesSerializer):
    workspace = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = LaunchTemplateTask
        fields = [
            "id",
            "workspace",
            "team",
            "title",
            "description",
            "days_before_release",
            "position",
            "created_at",
            "updated_at",
        ]


class LaunchTaskSerializer(StrictMixin, ModelRulesSerializer):
    release = serializers.PrimaryKeyRelatedField(queryset=Release.objects.none())
    owner = MemberEmailField(allow_null=True, required=False)
    done = serializers.SerializerMethodField()
    done_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = LaunchTask
        fields = [
            "id",
            "release",
            "team",
            "title",
            "description",
            "owner",
            "due_on",
            "position",
            "done",
            "done_at",
            "done_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["done_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["release"].queryset = scoped(Release.objects.all(), request)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["release"].read_only = True

    def get_done(self, obj) -> bool:
        return obj.done_at is not None


class ShipSerializer(StrictMixin, serializers.Serializer):
    force = serializers.BooleanField(
        default=False,
        help_text="Ship although the release is not ready (workspace admins only).",
    )


class ShipResultSerializer(serializers.Serializer):
    release = ReleaseSerializer()
    shipped = serializers.ListField(
        child=serializers.CharField(), help_text="Titles moved to shipped."
    )
    forced = serializers.BooleanField()


class ChecklistResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Tasks added from the template.")
    tasks = LaunchTaskSerializer(many=True, help_text="The whole checklist.")


class TeamProgressSerializer(serializers.Serializer):
    team = serializers.ChoiceField(choices=LaunchTeam.choices)
    label = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class ReleaseItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", help_text="Roadmap item id.")
    feature = serializers.IntegerField(source="feature_id", allow_null=True)
    title = serializers.CharField()
    status = serializers.CharField()
    visibility = serializers.CharField()
    blocking = serializers.BooleanField()


class BlockerSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["checklist", "overdue", "open", "item"])
    text = serializers.CharField()


class ReadinessSerializer(serializers.Serializer):
    release = serializers.IntegerField(source="release.pk")
    status = serializers.ChoiceField(
        choices=list(launch_selectors.STATUS_LABELS),
        help_text="Derived: not_started, in_progress, ready, shipped or cancelled.",
    )
    label = serializers.CharField()
    tasks_done = serializers.IntegerField()
    tasks_total = serializers.IntegerField()
    percent = serializers.IntegerField()
    teams = TeamProgressSerializer(many=True)
    overdue = serializers.SerializerMethodField(help_text="Ids of overdue open tasks.")
    items = ReleaseItemSerializer(many=True)
    blockers = BlockerSerializer(many=True)

    def get_overdue(self, obj) -> list[int]:
        return [task.pk for task in obj.overdue]


class CaseBucketSerializer(serializers.Serializer):
    label = serializers.CharField()
    revenue = serializers.DecimalField(max_digits=18, decimal_places=2)
    cost = serializers.DecimalField(max_digits=18, decimal_places=2)
    net = serializers.DecimalField(max_digits=18, decimal_places=2)
    features = serializers.SerializerMethodField(help_text="Feature ids.")

    def get_features(self, obj) -> list[int]:
        return [feature.pk for feature in obj.features]


class ReleaseBucketSerializer(CaseBucketSerializer):
    release = serializers.IntegerField(source="key", allow_null=True)
    target_date = serializers.DateField(source="date", allow_null=True)


class QuarterBucketSerializer(CaseBucketSerializer):
    starts_on = serializers.DateField(
        source="date", allow_null=True, help_text="Empty for unscheduled features."
    )


class CumulativeSerializer(serializers.Serializer):
    label = serializers.CharField()
    revenue = serializers.DecimalField(max_digits=18, decimal_places=2)
    cost = serializers.DecimalField(max_digits=18, decimal_places=2)
    net = serializers.DecimalField(max_digits=18, decimal_places=2)


class PlanForecastSerializer(serializers.Serializer):
    plan = serializers.IntegerField(source="plan.pk")
    name = serializers.CharField(source="plan.name")
    yearly_price = serializers.DecimalField(
        source="plan.yearly_price", max_digits=12, decimal_places=2
    )
    persona = serializers.IntegerField(source="plan.persona_id", allow_null=True)
    segment = serializers.CharField()
    segment_size = serializers.IntegerField()
    conversion_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    rate_from = serializers.ChoiceField(choices=["plan", "model"])
    customers = serializers.DecimalField(max_digits=18, decimal_places=2)
    yearly_revenue = serializers.DecimalField(max_digits=18, decimal_places=2)


class BusinessCaseSerializer(serializers.Serializer):
    currency = serializers.CharField()
    conversion_rate = serializers.DecimalField(
        source="revenue_model.conversion_rate", max_digits=5, decimal_places=2
    )
    model_saved = serializers.BooleanField(
        help_text="False while the product has no revenue model: the defaults are used."
    )
    revenue = serializers.DecimalField(max_digits=18, decimal_places=2)
    cost = serializers.DecimalField(max_digits=18, decimal_places=2)
    net = serializers.DecimalField(max_digits=18, decimal_places=2)
    features_without_figures = serializers.IntegerField()
    by_release = ReleaseBucketSerializer(many=True)
    by_quarter = QuarterBucketSerializer(many=True)
    cumulative = CumulativeSerializer(many=True)
    plans = PlanForecastSerializer(many=True)
    plans_revenue = serializers.DecimalField(max_digits=18, decimal_places=2)


# --- Product records -----------------------------------------------------------------------------


CompetitorViewSet = product_record_viewset(
    Competitor,
    CompetitorSerializer,
    save=strategy_services.competitor_save,
    delete=strategy_services.competitor_delete,
    argument="competitor",
)
MarketSizeViewSet = product_record_viewset(
    MarketSize,
    MarketSizeSerializer,
    save=strategy_services.market_size_save,
    delete=strategy_services.market_size_delete,
    argument="market_size",
    filter_fields=("kind",),
)
PricePlanViewSet = product_record_viewset(
    PricePlan,
    PricePlanSerializer,
    save=strategy_services.price_plan_save,
    delete=strategy_services.price_plan_delete,
    argument="price_plan",
    filter_fields=("persona",),
)


def _only_one(model_class, product, message: str) -> None:
    if model_class.objects.filter(product=product).exists():
        raise ValidationError({"product": [message]})


@extend_schema_view(
    list=extend_schema(summary="List revenue models (one per product)"),
    retrieve=extend_schema(summary="Get a product's revenue model"),
    create=extend_schema(summary="Create a product's revenue model (400 if it has one)"),
    partial_update=extend_schema(summary="Edit the assumptions of a revenue model"),
)
class RevenueModelViewSet(ScopedViewSet):
    queryset = RevenueModel.objects.select_related("product")
    serializer_class = RevenueModelSerializer
    filterset_class = ProductChildFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        product = self.product_for_create(serializer)
        _only_one(RevenueModel, product, "This product has a revenue model already: edit it.")
        model = strategy_services.revenue_model_save(
            product=product, data=data_without(serializer, "product"), actor=self.request.user
        )
        serializer.instance = self.get_queryset().get(pk=model.pk)

    def perform_update(self, serializer):
        model = strategy_services.revenue_model_save(
            product=serializer.instance.product,
            data=data_without(serializer, "product"),
            actor=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=model.pk)


# --- Positioning ---------------------------------------------------------------------------------

_ANSWERS = Prefetch(
    "answers",
    queryset=PositioningAnswer.objects.select_related("updated_by").prefetch_related(
        "insights", "personas"
    ),
)


@extend_schema_view(
    list=extend_schema(summary="List positionings (one per product) with their answers"),
    retrieve=extend_schema(summary="Get a positioning with its answers"),
    create=extend_schema(summary="Create a product's positioning (400 if it has one)"),
    partial_update=extend_schema(
        summary="Choose the outside audiences that may read the positioning"
    ),
)
class PositioningViewSet(ScopedViewSet):
    queryset = Positioning.objects.select_related("product").prefetch_related(_ANSWERS)
    serializer_class = PositioningSerializer
    filterset_class = ProductChildFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        product = self.product_for_create(serializer)
        _only_one(Positioning, product, "This product has a positioning already: edit it.")
        self._save(serializer, product, Positioning(product=product))

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance.product, serializer.instance)

    def _save(self, serializer, product, current):
        data = serializer.validated_data
        positioning = strategy_services.positioning_set_audiences(
            product=product,
            show_to_investors=data.get("show_to_investors", current.show_to_investors),
            show_to_executives=data.get("show_to_executives", current.show_to_executives),
            actor=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=positioning.pk)


class PositioningAnswerFilter(filters.FilterSet):
    product = ProductSlugFilter("positioning__product")
    question = filters.ChoiceFilter(choices=PositioningQuestion.choices)
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = PositioningAnswer
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List positioning answers"),
    retrieve=extend_schema(summary="Get a positioning answer with what it cites"),
    create=extend_schema(
        summary="Answer a positioning question (400 if it is answered already: PATCH it)"
    ),
    partial_update=extend_schema(summary="Edit an answer and what it cites"),
)
class PositioningAnswerViewSet(ScopedViewSet):
    queryset = PositioningAnswer.objects.select_related(
        "positioning__product", "updated_by"
    ).prefetch_related("insights", "personas")
    serializer_class = PositioningAnswerSerializer
    filterset_class = PositioningAnswerFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def workspace_id_of(self, obj) -> int:
        return obj.positioning.product.workspace_id

    def perform_create(self, serializer):
        data = serializer.validated_data
        product = data["positioning"]["product"]
        ensure_can_edit(self.request, product.workspace_id)
        if PositioningAnswer.objects.filter(
            positioning__product=product, question=data["question"]
        ).exists():
            raise ValidationError(
                {"question": ["This question is answered already: edit its answer."]}
            )
        self._save(serializer, product, data["question"], None)

    def perform_update(self, serializer):
        answer = serializer.instance
        self._save(serializer, answer.positioning.product, answer.question, answer)

    def _save(self, serializer, product, question, answer):
        data = serializer.validated_data
        saved = strategy_services.positioning_answer_save(
            product=product,
            question=question,
            text=data.get("text", answer.text if answer else ""),
            insights=data.get("insights", answer.insights.all() if answer else ()),
            personas=data.get("personas", answer.personas.all() if answer else ()),
            actor=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=saved.pk)


# --- The comparison grid -------------------------------------------------------------------------


class ComparisonFilter(filters.FilterSet):
    product = ProductSlugFilter("competitor__product")
    status = filters.MultipleChoiceFilter(choices=ComparisonStatus.choices)
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Comparison
        fields = ["competitor", "feature", "lane"]


@extend_schema_view(
    list=extend_schema(summary="List cells of comparison grids"),
    retrieve=extend_schema(summary="Get a cell of a comparison grid"),
    create=extend_schema(
        summary="Set a cell: a competitor on a feature or a theme (400 if it is set: PATCH it)"
    ),
    partial_update=extend_schema(summary="Change a cell's status or note"),
    destroy=extend_schema(summary="Clear a cell"),
)
class ComparisonViewSet(ScopedViewSet):
    queryset = Comparison.objects.select_related("competitor__product")
    serializer_class = ComparisonSerializer
    filterset_class = ComparisonFilter

    def workspace_id_of(self, obj) -> int:
        return obj.competitor.product.workspace_id

    def perform_create(self, serializer):
        data = serializer.validated_data
        competitor = data["competitor"]
        ensure_can_edit(self.request, competitor.product.workspace_id)
        about = {"feature": data.get("feature"), "lane": data.get("lane")}
        target = {k: v for k, v in about.items() if v is not None}
        if len(target) == 1 and Comparison.objects.filter(competitor=competitor, **target).exists():
            raise ValidationError({"non_field_errors": ["This cell is set already: edit it."]})
        cell = strategy_services.comparison_set(
            competitor=competitor, status=data["status"], note=data.get("note", ""), **about
        )
        serializer.instance = self.get_queryset().get(pk=cell.pk)

    def perform_update(self, serializer):
        cell = serializer.instance
        data = serializer.validated_data
        saved = strategy_services.comparison_set(
            competitor=cell.competitor,
            feature=cell.feature,
            lane=cell.lane,
            status=data.get("status", cell.status),
            note=data.get("note", cell.note),
        )
        serializer.instance = self.get_queryset().get(pk=saved.pk)

    def perform_destroy(self, instance):
        strategy_services.comparison_set(
            competitor=instance.competitor, feature=instance.feature, lane=instance.lane, status=""
        )


# --- Launch --------------------------------------------------------------------------------------


class LaunchTemplateFilter(filters.FilterSet):
    team = filters.MultipleChoiceFilter(choices=LaunchTeam.choices)
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = LaunchTemplateTask
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List the launch checklist template's tasks"),
    retrieve=extend_schema(summary="Get a task of the launch template"),
    create=extend_schema(summary="Add a task to the launch template (workspace admins)"),
    partial_update=extend_schema(summary="Edit a task of the launch template (admins)"),
    destroy=extend_schema(summary="Remove a task from the launch template (admins)"),
)
class LaunchTemplateTaskViewSet(WorkspaceRecordWrites, ScopedViewSet):
    queryset = LaunchTemplateTask.objects.select_related("workspace")
    serializer_class = LaunchTemplateTaskSerializer
    filterset_class = LaunchTemplateFilter
    admin_only_writes = True
    ordering = ["team", "position", "id"]
    ordering_fields = ["position", "updated_at", "created_at", "id"]
    save_record = staticmethod(launch_services.launch_template_task_save)
    record_argument = "task"

    def workspace_id_of(self, obj) -> int:
        return obj.workspace_id

    def perform_destroy(self, instance):
        launch_services.launch_template_task_delete(task=instance, actor=self.request.user)


class LaunchTaskFilter(filters.FilterSet):
    product = ProductSlugFilter("release__product")
    team = filters.MultipleChoiceFilter(choices=LaunchTeam.choices)
    done = BooleanFilter(
        field_name="done_at", lookup_expr="isnull", exclude=True, help_text="Done or open."
    )
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = LaunchTask
        fields = ["release"]


@extend_schema_view(
    list=extend_schema(summary="List the tasks of release checklists"),
    retrieve=extend_schema(summary="Get a checklist task"),
    create=extend_schema(summary="Add a task to a release's checklist"),
    partial_update=extend_schema(summary="Edit a checklist task (owner, due date...)"),
    destroy=extend_schema(summary="Remove a task from its checklist"),
)
class LaunchTaskViewSet(ScopedViewSet):
    queryset = LaunchTask.objects.select_related("release__product", "owner", "done_by")
    serializer_class = LaunchTaskSerializer
    filterset_class = LaunchTaskFilter
    ordering = ["release_id", "team", "position", "id"]
    ordering_fields = ["due_on", "position", "updated_at", "created_at", "id"]

    def workspace_id_of(self, obj) -> int:
        return obj.release.product.workspace_id

    def perform_create(self, serializer):
        release = serializer.validated_data["release"]
        ensure_can_edit(self.request, release.product.workspace_id)
        task = launch_services.launch_task_save(
            release=release, data=data_without(serializer, "release"), actor=self.request.user
        )
        serializer.instance = self.get_queryset().get(pk=task.pk)

    def perform_update(self, serializer):
        task = launch_services.launch_task_save(
            release=serializer.instance.release,
            data=data_without(serializer, "release"),
            task=serializer.instance,
            actor=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=task.pk)

    def perform_destroy(self, instance):
        launch_services.launch_task_delete(task=instance)

    @extend_schema(
        summary="Tick a task off (done now, by you); a done task keeps its first completion",
        request=None,
        responses={200: LaunchTaskSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = launch_services.launch_task_complete(task=self.get_object(), actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data)

    @extend_schema(
        summary="Mark a done task as open again",
        request=None,
        responses={200: LaunchTaskSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        task = launch_services.launch_task_reopen(task=self.get_object(), actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data)


class ReleaseViewSet(views.ReleaseViewSet):
    """Releases, with their launch: the checklist, readiness and shipping."""

    @extend_schema(
        summary="Create the release's launch checklist from the workspace's template "
        "(adds only the template tasks it does not have yet)",
        request=None,
        responses={201: ChecklistResultSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def checklist(self, request, pk=None):
        release = self.get_object()
        created = launch_services.release_checklist_create(release=release)
        tasks = launch_selectors.launch_tasks_of(release=release).order_by("team", "position", "id")
        data = ChecklistResultSerializer(
            {"created": len(created), "tasks": tasks}, context=self.get_serializer_context()
        ).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The release's readiness: derived status, checklist by team, items, blockers",
        responses={200: ReadinessSerializer, **{k: v for k, v in ERRORS.items() if k != 400}},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def readiness(self, request, pk=None):
        readiness = launch_selectors.release_readiness(release=self.get_object())
        return Response(ReadinessSerializer(readiness).data)

    @extend_schema(
        summary="Ship the release: its items become shipped, stakeholders are told. A release "
        "that is not ready: 400 naming its blockers, unless an admin sends force",
        request=ShipSerializer,
        responses={200: ShipResultSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        release = self.get_object()
        form = ShipSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = launch_services.release_ship(
            release=release, actor=request.user, force=form.validated_data["force"]
        )
        release = self.get_queryset().get(pk=release.pk)
        return Response(
            {
                "release": ReleaseSerializer(release, context=self.get_serializer_context()).data,
                "shipped": list(result.shipped),
                "forced": result.forced,
            }
        )


class ProductViewSet(views.ProductViewSet):
    """Products, with their business case."""

    @extend_schema(
        summary="The product's business case: revenue and cost by release and by quarter, "
        "cumulative, and the revenue model's plans with their assumptions",
        responses={200: BusinessCaseSerializer, **{k: v for k, v in ERRORS.items() if k != 400}},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="business-case",
        filter_backends=[],
        pagination_class=None,
    )
    def business_case(self, request, slug=None):
        case = strategy_selectors.business_case(product=self.get_object())
        return Response(BusinessCaseSerializer(case).data)
