"""The planning app's home (products) and feature pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from roadmap.selectors import pages as selectors


@login_required
def home(request):
    """The current workspace's products by product line, each with its top features."""
    workspace = request.workspace if request.membership else None
    lines = selectors.home_product_lines(user=request.user, workspace=workspace)
    return render(request, "roadmap/home.html", {"workspace": workspace, "product_lines": lines})


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
