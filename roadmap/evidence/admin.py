"""Admin of evidence: personas, insights (customer evidence) and objectives (success metrics).

Saved and deleted through the evidence services, as on the product's pages: links to features of
the same product only, and a recompute of the scores when reach is counted from what changed.
"""

from django.contrib import admin

from roadmap.admin_base import (
    TIMESTAMPS,
    ProductRecordAdmin,
    ServiceWritesAdmin,
    ViewOnlyAdmin,
    ViewOnlyInline,
    form_data,
)
from roadmap.evidence import services
from roadmap.models import Customer, CustomerDomain, Experiment, Insight, Objective, Persona


@admin.register(Persona)
class PersonaAdmin(ProductRecordAdmin):
    list_display = ("name", "product", "segment", "segment_size")
    list_filter = ("product__workspace", "product")
    list_select_related = ("product",)
    search_fields = ("name", "segment", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS

    save_service = staticmethod(services.persona_save)
    delete_service = staticmethod(services.persona_delete)
    service_fields = services.PERSONA_FIELDS
    record_argument = "persona"


@admin.register(Insight)
class InsightAdmin(ServiceWritesAdmin):
    list_display = ("customer", "product", "source", "importance", "persona", "observed_on")
    list_filter = ("source", "importance", "product")
    list_select_related = ("product", "persona")
    search_fields = ("customer", "text", "product__name")
    autocomplete_fields = ("product", "persona", "features", "created_by")
    readonly_fields = TIMESTAMPS

    def get_readonly_fields(self, request, obj=None):
        # Who recorded the evidence is kept as it was recorded.
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "created_by") if obj is not None else fields

    def service_save(self, request, form, stored):
        return services.insight_save(
            product=stored.product if stored else form.cleaned_data["product"],
            data=form_data(form, services.INSIGHT_FIELDS),
            insight=stored,
            features=form.cleaned_data["features"],
            created_by=form.cleaned_data.get("created_by"),
        )

    def service_delete(self, request, obj) -> None:
        services.insight_delete(insight=obj)


@admin.register(Objective)
class ObjectiveAdmin(ProductRecordAdmin):
    list_display = ("name", "product", "metric", "baseline", "target", "current", "due")
    list_filter = ("product",)
    list_select_related = ("product",)
    search_fields = ("name", "metric", "product__name")
    autocomplete_fields = ("product", "features")
    readonly_fields = TIMESTAMPS

    save_service = staticmethod(services.objective_save)
    delete_service = staticmethod(services.objective_delete)
    service_fields = services.OBJECTIVE_FIELDS
    record_argument = "objective"
    links = ("features",)


class CustomerDomainInline(ViewOnlyInline, admin.TabularInline):
    model = CustomerDomain
    fields = ("domain",)
    readonly_fields = fields
    extra = 0


@admin.register(Customer)
class CustomerAdmin(ProductRecordAdmin):
    """Domains are edited on the product's customer page (one text box, checked for clashes)."""

    list_display = ("name", "product", "segment", "annual_revenue")
    list_filter = ("product",)
    list_select_related = ("product",)
    search_fields = ("name", "segment", "domains__domain")
    autocomplete_fields = ("product", "persona")
    readonly_fields = TIMESTAMPS
    inlines = (CustomerDomainInline,)

    save_service = staticmethod(services.customer_save)
    delete_service = staticmethod(services.customer_delete)
    service_fields = services.CUSTOMER_FIELDS
    record_argument = "customer"


@admin.register(CustomerDomain)
class CustomerDomainAdmin(ViewOnlyAdmin):
    list_display = ("domain", "customer", "product")
    list_select_related = ("customer", "product")
    search_fields = ("domain", "customer__name")


@admin.register(Experiment)
class ExperimentAdmin(ProductRecordAdmin):
    list_display = ("hypothesis", "product", "method", "decision", "started_on", "ended_on")
    list_filter = ("method", "decision", "product")
    list_select_related = ("product",)
    search_fields = ("hypothesis", "audience", "product__name")
    autocomplete_fields = ("product", "features")
    readonly_fields = (*TIMESTAMPS, "created_by")

    save_service = staticmethod(services.experiment_save)
    delete_service = staticmethod(services.experiment_delete)
    service_fields = services.EXPERIMENT_FIELDS
    record_argument = "experiment"
    links = ("features",)

    def service_save(self, request, form, stored):
        # An experiment added here was recorded by whoever added it.
        return services.experiment_save(
            product=stored.product if stored else form.cleaned_data["product"],
            data=form_data(form, self.service_fields),
            experiment=stored,
            features=form.cleaned_data["features"],
            created_by=request.user,
        )
