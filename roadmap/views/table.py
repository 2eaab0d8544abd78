"""A product's prioritization table."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from roadmap.selectors import pages as selectors
from roadmap.views.access import product_for


@login_required
@vary_on_headers("HX-Request")
def product(request, slug: str):
    """A product's ranked features (filterable by status) and its now / next / later roadmap.

    An htmx request for another status filter gets the feature table alone.
    """
    product = product_for(request, slug)
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
