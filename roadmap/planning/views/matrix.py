"""A product's value vs. effort matrix."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from roadmap.access import product_for
from roadmap.bounds import whole_number
from roadmap.evidence.selectors import persona_choices
from roadmap.planning.selectors import matrix as selectors
from roadmap.planning.selectors import pages


@login_required
@vary_on_headers("HX-Request")
def matrix(request, slug: str):
    """The product's features (open ones unless asked otherwise, optionally of one persona)
    plotted by value and effort. An htmx request for other filters gets the chart alone."""
    product = product_for(request, slug)
    personas = list(persona_choices(product=product))
    status = pages.normalise_status_filter(request.GET.get("status"))
    persona_id = whole_number(request.GET.get("persona"))
    if persona_id not in {p.pk for p in personas}:
        persona_id = None
    context = {
        "product": product,
        "matrix": selectors.product_matrix(product=product, status=status, persona_id=persona_id),
        "status": status,
        "status_filters": pages.STATUS_FILTERS,
        "persona_id": persona_id,
        "personas": personas,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "roadmap/records/_matrix.html", context)
    return render(request, "roadmap/matrix.html", context)
