"""Who may open and edit a product: one place, used by every planning view and the API.

Members of the product's workspace may read; editors and admins may also write (viewers get 403).
Anyone else gets 404, as if the product did not exist.

A slug is unique within a workspace only: for someone in several workspaces it names the product
of their current workspace (the one the home page shows), else of the first workspace in the
home page's fallback order (name, then id). ``product_by_slug`` decides that for pages and API.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Case, OuterRef, QuerySet, Subquery, Value, When
from django.http import Http404, HttpRequest

from accounts.middleware import SESSION_KEY
from accounts.models import Membership, Role
from roadmap.models import Product

EDIT_ROLES = (Role.ADMIN, Role.EDITOR)


def products_with_role(request: HttpRequest) -> QuerySet[Product]:
    """The products the user may open, each with the user's role in ``my_role``."""
    role = Membership.objects.filter(workspace_id=OuterRef("workspace_id"), user=request.user)
    return (
        Product.objects.for_user(request.user)
        .select_related("workspace")
        .annotate(my_role=Subquery(role.values("role")[:1]))
    )


def product_by_slug(products: QuerySet[Product], request: HttpRequest, slug: str):
    """``products`` with this slug, the one it names for this requester first (see above)."""
    session = getattr(request, "session", None)
    chosen = session.get(SESSION_KEY) if session is not None else None
    current_first = Case(When(workspace_id=chosen, then=Value(0)), default=Value(1))
    return products.filter(slug=slug).order_by(current_first, "workspace__name", "workspace_id")


def product_for(request: HttpRequest, slug: str, *, edit: bool = False) -> Product:
    """The product this slug names for the user (404 if none of theirs), in one query.

    Sets ``product.can_edit``; with ``edit=True``, a viewer gets PermissionDenied (403).
    """
    return _checked(product_by_slug(products_with_role(request), request, slug).first(), edit)


def product_by_id(request: HttpRequest, pk: int, *, edit: bool = False) -> Product:
    """As ``product_for``, for a product known by id (a feature's): no slug to tell apart."""
    return _checked(products_with_role(request).filter(pk=pk).first(), edit)


def _checked(product: Product | None, edit: bool) -> Product:
    if product is None:
        raise Http404("No such product.")
    product.can_edit = product.my_role in EDIT_ROLES
    if edit and not product.can_edit:
        raise PermissionDenied("Viewers can read this product but not change it.")
    return product
