"""Who may open and edit a product: one place, used by every page and the API.

Members of the product's workspace may read; editors and admins may also write (viewers get 403).
Anyone else gets 404, as if the product did not exist. ``role_allows`` is that rule for a role
(``accounts.models.role_can_edit`` / ``role_is_admin`` state which roles): pages reach it through
``product_for``, the API through ``roadmap.api.permissions.ensure_can_edit``.

A slug is unique within a workspace only: for someone in several workspaces it names the product
of their current workspace (the one the home page shows), else of the first workspace in the
home page's fallback order (name, then id). ``product_by_slug`` decides that for pages and API.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Case, OuterRef, QuerySet, Subquery, Value, When
from django.http import Http404, HttpRequest

from accounts.middleware import SESSION_KEY
from accounts.models import ApiToken, Membership, role_can_edit, role_is_admin
from roadmap.models import Product


def role_allows(role: str | None, *, edit: bool = False, admin: bool = False) -> bool:
    """Whether a member with ``role`` (None: not a member) may read, with ``edit`` change, and
    with ``admin`` administer (members, webhooks, launch template) a workspace's things."""
    if admin:
        return role_is_admin(role)
    if edit:
        return role_can_edit(role)
    return role is not None


def products_with_role(request: HttpRequest) -> QuerySet[Product]:
    """The products the user may open, each with the user's role in ``my_role``."""
    user = request.user
    if user.is_anonymous:  # behind login_required in practice; nobody's products otherwise
        raise Http404("No such product.")
    role = Membership.objects.filter(workspace_id=OuterRef("workspace_id"), user=user)
    return (
        Product.objects.for_user(user)
        .select_related("workspace")
        .annotate(my_role=Subquery(role.values("role")[:1]))
    )


def product_by_slug(products: QuerySet[Product], request: HttpRequest, slug: str):
    """``products`` with this slug, the one it names for this requester first (see above).

    A request with an API token reads one workspace, the token's, where a slug names one product
    at most: no order to ask for (the ordering's join and CASE were a fifth of a small answer)."""
    token = getattr(request, "auth", None)
    if isinstance(token, ApiToken):
        return products.filter(slug=slug, workspace_id=token.workspace_id)
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
    # Annotated by products_with_role; set here for the templates (``product.can_edit``).
    can_edit = role_allows(product.my_role, edit=True)  # type: ignore[attr-defined]
    product.can_edit = can_edit  # type: ignore[attr-defined]
    if edit and not can_edit:
        raise PermissionDenied("Viewers can read this product but not change it.")
    return product
