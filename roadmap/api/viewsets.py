"""The API's generic viewset pieces, used by every slice's API: pagination, the viewset scoped
by workspace, the filters by product slug and by change time, the error answers every endpoint
documents, a CRUD viewset for a product's record written through services, the writes of a
workspace's own record, and the product a viewset under ``products/<product_slug>/`` serves.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from django_filters.widgets import BooleanWidget
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination

from roadmap.api.permissions import IsMemberWithRole, admin_workspace, ensure_can_edit
from roadmap.api.schema import VALIDATION_ERROR_SCHEMA
from roadmap.api.scoping import scoped, scoped_product
from roadmap.api.serializers import ErrorSerializer
from roadmap.models import Product

MAX_PAGE_SIZE = 200


class Pagination(PageNumberPagination):
    """Pages of 50 by default; ``page_size`` up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class RowsPaginator(Paginator):
    """Django's paginator, counting the queryset it is given, and reading each page through
    ``rows`` (a function of the page's queryset, e.g. its ``values()``): the COUNT stays the
    queryset's own, without the joins a ``values()`` of related columns would keep in it (on a
    product of 100,000 features, tens of milliseconds). For ``Pagination.django_paginator_class``
    (``functools.partial(RowsPaginator, rows=…)``)."""

    def __init__(self, object_list, per_page, *, rows: Callable[[Any], Any], **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.rows = rows

    def _get_page(self, object_list, number, paginator):
        return super()._get_page(self.rows(object_list), number, paginator)


class ScopedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsMemberWithRole]
    pagination_class = Pagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["updated_at", "created_at", "id"]
    ordering = ["id"]

    def get_queryset(self):
        return scoped(self.queryset.all(), self.request)

    def workspace_id_of(self, obj) -> int:
        return obj.product.workspace_id

    def product_for_create(self, serializer) -> Product:
        product = serializer.validated_data["product"]
        ensure_can_edit(self.request, product.workspace_id)
        return product


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, normalised to UTC (databases refuse offsets beyond ±15:59)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError("This instant is out of range.") from exc


class StrictBooleanWidget(BooleanWidget):
    """true/false (any case) or 1/0 as booleans; any other word passed on as given, for the
    field to refuse (django-filter's widget reads it as "not given", so ``?shares=maybe`` would
    be answered as if nobody had asked)."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        known = super().value_from_datadict(data, files, name)
        return value if known is None and value not in (None, "") else known


class StrictBooleanField(forms.NullBooleanField):
    def to_python(self, value):
        if isinstance(value, str) and value:
            raise forms.ValidationError("Either true or false.", code="invalid")
        return super().to_python(value)


class BooleanFilter(filters.BooleanFilter):
    """A yes/no query parameter that refuses anything but true/false or 1/0 (400 naming it)."""

    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", StrictBooleanWidget)
        super().__init__(*args, **kwargs)


class AnyTextsField(forms.MultipleChoiceField):
    """The texts of a repeated query parameter, as given (whoever reads them checks them)."""

    def valid_value(self, value):
        return True


class RepeatedTextFilter(filters.MultipleChoiceFilter):
    """A query parameter given once or repeated, each a free text: a list of strings in the
    schema (``description`` as its help). It filters nothing by itself: its FilterSet reads it
    with the parameters it goes with (``FeatureFilter.filter_queryset``)."""

    field_class = AnyTextsField

    def __init__(self, *, description: str, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(**kwargs)
        # For drf-spectacular's django-filter extension: a string (an array of them, this being
        # a MultipleChoiceFilter) with this description; the model has no field to read it from.
        extend_schema_field({"type": "string", "description": description})(self)

    def filter(self, qs, value):
        return qs


class UpdatedSinceFilter(filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField

    def __init__(self, **kwargs):
        kwargs.setdefault("field_name", "updated_at")
        kwargs.setdefault("lookup_expr", "gte")
        kwargs.setdefault("help_text", "Only rows changed at or after this instant (ISO 8601).")
        super().__init__(**kwargs)


class ProductSlugFilter(filters.CharFilter):
    """Rows of the product a slug names for the requester (``scoped_product``): with a token,
    only its workspace's product; with a session, the current workspace's first.
    ``field_name`` is the path from the row to its product."""

    def __init__(self, field_name="product", **kwargs):
        kwargs.setdefault("help_text", "Product slug.")
        super().__init__(field_name=field_name, **kwargs)
        self._ids: dict[str, int | None] = {}

    def filter(self, qs, value):
        if not value:
            return qs
        # The id first (one indexed query), then the rows by that id: a subquery would leave the
        # planner to guess the product's size, and it guesses "average" — a sequential scan of
        # every workspace's rows when one product holds a million (issue 20).
        pk = self.product_id(value)
        return qs.filter(**{self.field_name: pk}) if pk is not None else qs.none()

    def product_id(self, value: str) -> int | None:
        """The id of the product the slug names for the requester, None for none: one query,
        asked once per request (each FilterSet works on its own copies of its filters)."""
        if value not in self._ids:
            found = scoped_product(self.parent.request, value)
            self._ids[value] = found.pk if found is not None else None
        return self._ids[value]


class ProductChildFilter(filters.FilterSet):
    product = ProductSlugFilter()
    updated_since = UpdatedSinceFilter()


def data_without(serializer, *names) -> dict:
    """The validated data but the ``names`` (relations a service takes on their own)."""
    return {k: v for k, v in serializer.validated_data.items() if k not in names}


ERRORS = {
    400: OpenApiResponse(response=VALIDATION_ERROR_SCHEMA, description="Invalid input"),
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    429: ErrorSerializer,
}


def product_record_viewset(
    model_class,
    serializer,
    save,
    *,
    delete=None,
    argument="",
    filter_fields=(),
    m2m=(),
    extra=None,
):
    """A CRUD viewset for a product's record whose writes go through services: ``save`` (and
    ``delete``, else the row is deleted as is), which take the record as ``argument`` (the
    model's name by default). ``m2m`` names the relations ``save`` takes on their own;
    ``extra(request)`` adds arguments to a create."""
    argument = argument or model_class._meta.model_name

    class Filter(ProductChildFilter):
        class Meta:
            model = model_class
            fields = list(filter_fields)

    class ViewSet(ScopedViewSet):
        queryset = model_class.objects.select_related("product").prefetch_related(*m2m)
        serializer_class = serializer
        filterset_class = Filter

        def _save(self, serializer, product, instance=None):
            related = {
                name: serializer.validated_data[name]
                for name in m2m
                if name in serializer.validated_data
            }
            kwargs = {argument: instance} if instance else {}
            obj = save(
                product=product,
                data=data_without(serializer, "product", *m2m),
                **kwargs,
                **related,
                **(extra(self.request) if extra and instance is None else {}),
            )
            serializer.instance = self.get_queryset().get(pk=obj.pk)

        def perform_create(self, serializer):
            self._save(serializer, self.product_for_create(serializer))

        def perform_update(self, serializer):
            self._save(serializer, serializer.instance.product, serializer.instance)

        if delete is not None:

            def perform_destroy(self, instance):
                delete(**{argument: instance})

    ViewSet.__name__ = ViewSet.__qualname__ = f"{model_class.__name__}ViewSet"
    name = model_class._meta.verbose_name_plural
    return extend_schema_view(
        list=extend_schema(summary=f"List {name}"),
        retrieve=extend_schema(summary=f"Get one of the {name}"),
        create=extend_schema(summary=f"Create one of the {name}"),
        partial_update=extend_schema(summary=f"Edit one of the {name}"),
        destroy=extend_schema(summary=f"Delete one of the {name}"),
    )(ViewSet)


# Create and edit of a workspace's own record (not a product's) through one service,
# ``save_record(workspace=, data=, <record_argument>=, actor=)``: created in the workspace the
# requester administers, edited in its own. (A comment, not a docstring: drf-spectacular would
# take a docstring for the description of every operation of the viewsets using it.)
class WorkspaceRecordWrites:
    # Set as ``staticmethod(service)``; the mixin goes before the viewset's bases.
    save_record: Callable[..., Any]
    record_argument: str

    def perform_create(self, serializer):
        record = self.save_record(
            workspace=admin_workspace(self.request),
            data=serializer.validated_data,
            actor=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=record.pk)

    def perform_update(self, serializer):
        record = self.save_record(
            workspace=serializer.instance.workspace,
            data=serializer.validated_data,
            actor=self.request.user,
            **{self.record_argument: serializer.instance},
        )
        serializer.instance = self.get_queryset().get(pk=record.pk)


# A viewset under ``products/<product_slug>/``: its rows are the product's, the product is the
# one ``product_by_slug`` picks among the requester's (404 otherwise, whoever asks). (A comment,
# not a docstring: drf-spectacular would take it for every operation's description.)
class ProductNested:
    kwargs: dict
    request: object

    def product(self) -> Product:
        if not hasattr(self, "_product"):
            found = scoped_product(self.request, self.kwargs["product_slug"])
            if found is None:
                raise Http404("No such product.")
            self._product = found
        return self._product

    def product_to_edit(self) -> Product:
        product = self.product()
        ensure_can_edit(self.request, product.workspace_id)
        return product
