"""The API's generic serializer pieces, used by every slice's API: strict input (unknown or
changed read-only fields are a 400), range rules left to the models, a product named by slug, a
member named by email, a record of one product, and the error bodies.

Validation rules live in the models (``full_clean``) and services; serializers only shape input
and output.
"""

import json
import re

from rest_framework import serializers
from rest_framework.utils.encoders import JSONEncoder

from accounts.addresses import normalize_email
from accounts.models import Membership, User
from roadmap.access import product_by_slug
from roadmap.api.permissions import request_token
from roadmap.api.scoping import scoped
from roadmap.models import Product

READ_ONLY_CHANGED = "Read-only: leave it out, or send it back as it was read."


class StrictMixin:
    """400 on fields the endpoint does not know (typos must not be silently ignored).

    What a GET answers can be sent back as is: a read-only field (or one fixed after create, like
    ``product``) is accepted, and ignored, when it holds the value a GET gives now. Any other
    value is refused with a 400 naming it, never silently dropped.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {name: ["Unknown field."] for name in set(data) - set(self.fields)}
            echoed = [name for name in data if name in self.fields and self.fields[name].read_only]
            errors.update({name: [READ_ONLY_CHANGED] for name in self._changed(data, echoed)})
            if errors:
                raise serializers.ValidationError(dict(sorted(errors.items())))
        return super().to_internal_value(data)

    def _changed(self, data, names) -> list[str]:
        """The read-only fields among ``names`` whose value in ``data`` is not the current one."""
        if not names:
            return []
        if self.instance is None or isinstance(self.instance, list | tuple):
            return list(names)
        current = _as_json(self.to_representation(self.instance))
        return [
            name
            for name in names
            if not _same(self.fields[name], _as_json(data[name]), current.get(name))
        ]


def _as_json(value):
    """The value as it travels (decimals, dates and nested objects as their JSON)."""
    return json.loads(json.dumps(value, cls=JSONEncoder))


def _same(field, sent, current) -> bool:
    if sent == current:
        return True
    # The same instant or number written another way (``+00:00`` for ``Z``, ``2.0`` for ``2``).
    if isinstance(
        field, serializers.DateTimeField | serializers.DecimalField | serializers.FloatField
    ):
        try:
            return field.to_internal_value(sent) == field.to_internal_value(current)
        except (serializers.ValidationError, TypeError):
            return False
    return False


class ModelRulesSerializer(serializers.ModelSerializer):
    """Range rules are the model's: the service's ``full_clean`` reports them, with the model's
    messages, all fields at once. DRF only checks types (and choices, which the schema lists).
    """

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        for key in ("min_value", "max_value", "validators"):
            kwargs.pop(key, None)
        return field_class, kwargs


SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")


class ProductSlugField(serializers.SlugRelatedField):
    """A product named by slug, among the requester's products (``queryset``, set per request):
    the one ``product_by_slug`` picks, as the pages and the product endpoints do."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Product.objects.none())
        super().__init__(slug_field="slug", **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not SLUG.fullmatch(data):  # no product has it: not worth a query (nor a NUL to SQL)
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        product = product_by_slug(self.get_queryset(), self.context.get("request"), data).first()
        if product is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return product


OWNER_NOT_MEMBER = "The owner must be a member of this workspace."


class MemberEmailField(serializers.SlugRelatedField):
    """A person named by email among the members of the requester's workspaces (the token's
    only). An address without an account gets the same answer as a non-member's, so the API
    tells nobody who has an account on this instance. The model's ``clean()`` then checks the
    product's workspace, with the same message."""

    default_error_messages = {"does_not_exist": OWNER_NOT_MEMBER, "invalid": OWNER_NOT_MEMBER}

    def __init__(self, **kwargs):
        super().__init__(slug_field="email", queryset=User.objects.none(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return User.objects.none()
        mine = Membership.objects.filter(user=request.user)
        token = request_token(request)
        if token is not None:
            mine = mine.filter(workspace_id=token.workspace_id)
        return User.objects.filter(memberships__workspace__in=mine.values("workspace")).distinct()

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        user = self.get_queryset().filter(email=normalize_email(data)).first()
        if user is None:
            self.fail("does_not_exist")
        return user


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class ConflictSerializer(ErrorSerializer):
    current_version = serializers.IntegerField()


# --- Records of a product -----------------------------------------------------------------------


class ProductChildSerializer(StrictMixin, ModelRulesSerializer):
    """A record that belongs to one product, chosen by slug on create and fixed afterwards."""

    product = ProductSlugField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["product"].queryset = scoped(Product.objects.all(), request)
            for name, field in self.fields.items():
                related = getattr(field, "child_relation", field)
                if name != "product" and isinstance(related, serializers.PrimaryKeyRelatedField):
                    related.queryset = scoped(related.queryset.model.objects.all(), request)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["product"].read_only = True
