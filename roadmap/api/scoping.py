"""What an API request may see, for the views and the serializers' related fields."""

from django.db.models import QuerySet

from roadmap.access import product_by_slug
from roadmap.api.permissions import request_token
from roadmap.baked import Baked, columns, instance
from roadmap.models import Product


def scoped(queryset, request):
    """Rows the requester may see: their workspaces, or with a token its workspace only.

    A token's rows are its workspace's without asking for the membership again: the token was
    found in this request only where its user is a member of its workspace
    (``accounts.tokens.api_token_authenticate``), so the join would repeat that check in every
    query (and cost each a join and its planning)."""
    token = request_token(request)
    if token is not None:
        return queryset.for_workspace(token.workspace_id)
    return queryset.for_user(request.user)


def _product_in_workspace(workspace_id: int, slug: str) -> QuerySet:
    """The product of this slug in a workspace (one at most: a slug is unique there)."""
    return Product.objects.filter(workspace_id=workspace_id, slug=slug).values(*columns(Product))


_PRODUCT_IN_WORKSPACE = Baked(_product_in_workspace)


def scoped_product(request, slug: str) -> Product | None:
    """The product a slug names for the requester (``product_by_slug`` among ``scoped``), None
    for none. With a token, its workspace's, by a baked query (``roadmap.baked``): the product
    of a URL is read by most requests under ``products/<slug>/``."""
    token = request_token(request)
    if token is None:
        return product_by_slug(scoped(Product.objects.all(), request), request, slug).first()
    found = _PRODUCT_IN_WORKSPACE.rows(workspace_id=token.workspace_id, slug=slug)
    if not found:
        return None
    return instance(Product, found[0])
