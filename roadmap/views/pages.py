"""The read pages of the planning app: home (products), a product, a feature."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.vary import vary_on_headers

from roadmap.selectors import pages as selectors


@login_required
def home(request):
    """The current workspace's products by product line, each with its top features."""
    workspace = request.workspace if request.membership else None
    lines = selectors.home_product_lines(user=request.user, workspace=workspace)
    return render(request, "roadmap/home.html", {"workspace": workspace, "product_lines": lines})


@login_required
@vary_on_headers("HX-Request")
def product(request, slug: str):
    """A product's ranked features (filterable by status) and its now / next / later roadmap.

    An htmx request for another status filter gets the feature table alone.
    """
    product = get_object_or_404(selectors.product_page_queryset(user=request.user), slug=slug)
    status = selectors.normalise_status_filter(request.GET.get("status"))
    context = {
        "product": product,
        "features": selectors.product_features(product=product, status=status),
        "status": status,
        "status_filters": selectors.STATUS_FILTERS,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "roadmap/_feature_table.html", context)
    context["horizons"] = selectors.product_roadmap(product=product)
    return render(request, "roadmap/product.html", context)


@login_required
def feature(request, pk: int):
    """Everything known about one feature: the case for it, its score explained, its evidence."""
    feature = get_object_or_404(selectors.feature_page_queryset(user=request.user), pk=pk)
    insights = list(feature.insights.all())
    context = {
        "feature": feature,
        "product": feature.product,
        "explanation": selectors.feature_score_explanation(feature=feature),
        "placement": selectors.feature_placement(feature=feature),
        "insights": insights,
        "customers": selectors.customers_of(insights),
    }
    return render(request, "roadmap/feature.html", context)
