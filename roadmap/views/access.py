"""Who may open and edit a product's pages: one place, used by every planning view.

Members of the product's workspace may read; editors and admins may also write (viewers get 403).
Anyone else gets 404, as if the product did not exist.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

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


def product_for(request: HttpRequest, slug: str, *, edit: bool = False) -> Product:
    """The product with this slug if the user is a member (404 otherwise), in one query.

    Sets ``product.can_edit``; with ``edit=True``, a viewer gets PermissionDenied (403).
    """
    product = get_object_or_404(products_with_role(request), slug=slug)
    product.can_edit = product.my_role in EDIT_ROLES
    if edit and not product.can_edit:
        raise PermissionDenied("Viewers can read this product but not change it.")
    return product
