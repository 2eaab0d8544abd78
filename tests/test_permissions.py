"""Who may do what: one table, every route of the site, every kind of caller.

Each row is a request (URL name, method, body) and the status each caller gets:

    anon     nobody logged in
    viewer   a viewer of the workspace      (browser session; for the API, their write token)
    editor   an editor of the workspace     (idem)
    admin    an admin of the workspace      (idem)
    other    an editor of another workspace (idem)
    read     an editor's read-only API token
    write    an editor's read-write API token

A route without a row fails ``test_every_route_has_a_row``: a new endpoint cannot ship without
saying who may call it. Browser pages ignore tokens (a token caller is anonymous there), so
their ``read``/``write`` columns show the login redirect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tokens import api_token_issue
from roadmap.sharing.services import digests as digest_services
from tests import factories as f

CALLERS = ("anon", "viewer", "editor", "admin", "other", "read", "write")

# Routes that are not the application's own: Django's admin has its own staff check (its index
# is in the table), and the schema/docs are public by design.
NOT_IN_TABLE_NAMESPACES = ("admin",)


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    expected: str  # seven statuses, in CALLERS order
    kwargs: Any = None  # callable(world) -> reverse kwargs
    data: Any = None  # callable(world) -> request body
    api: bool = False
    query: str = ""
    marks: tuple = field(default=())

    def statuses(self) -> dict[str, int]:
        codes = self.expected.split()
        assert len(codes) == len(CALLERS), f"{self.name}: {len(codes)} statuses"
        return dict(zip(CALLERS, map(int, codes), strict=True))

    @property
    def id(self) -> str:
        return f"{self.method} {self.name}{'?' + self.query if self.query else ''}"


def k(**names):
    """kwargs from attributes of the world: k(pk="feature") -> {"pk": world.feature.pk}."""

    def build(world):
        out = {}
        for key, path in names.items():
            value = world
            for part in path.split("."):
                value = getattr(value, part)
            out[key] = getattr(value, "pk", value) if key != "slug" else value
        return out

    return build


def slug(world):
    return {"slug": world.product.slug}


def slug_and(**names):
    inner = k(**names)
    return lambda world: {"slug": world.product.slug, **inner(world)}


# Shorthands for common rows.
PAGE = "302 200 200 200 404 302 302"  # a member's page: everyone in the workspace reads it
EDIT = "302 403 {ok} {ok} 404 302 302"  # a write for editors and admins
ADMIN_ONLY = "302 403 403 {ok} 404 302 302"
API_READ = "401 200 200 200 404 200 200"
API_WRITE = "401 403 {ok} {ok} 404 403 {ok}"


def edit(ok: int = 302) -> str:
    return EDIT.format(ok=ok)


def api_write(ok: int) -> str:
    return API_WRITE.format(ok=ok)


ROWS: list[Row] = [
    # --- Health, public pages --------------------------------------------------------------
    Row("favicon", "GET", "302 302 302 302 302 302 302"),
    Row("healthz", "GET", "200 200 200 200 200 200 200"),
    Row("readyz", "GET", "200 200 200 200 200 200 200"),
    Row("api-docs", "GET", "200 200 200 200 200 200 200"),
    Row("api:schema", "GET", "200 200 200 200 200 200 200", api=True),
    Row("admin:index", "GET", "302 302 302 302 302 302 302"),
    Row("accounts:login", "GET", "200 302 302 302 302 200 200"),
    Row("accounts:logout", "POST", "302 302 302 302 302 302 302"),
    Row(
        "accounts:invitation_accept",
        "GET",
        "200 403 403 403 403 200 200",
        kwargs=lambda w: {"token": w.invitation_token},
    ),
    # --- Account and workspace pages -------------------------------------------------------
    Row("accounts:password_change", "GET", "302 200 200 200 200 302 302"),
    Row("accounts:password_change_done", "GET", "302 200 200 200 200 302 302"),
    # Resetting a forgotten password: public, the same for everyone (an invalid email is 400).
    Row("accounts:password_reset", "GET", "200 200 200 200 200 200 200"),
    Row(
        "accounts:password_reset",
        "POST",
        "400 400 400 400 400 400 400",
        data=lambda w: {"email": "not an address"},
    ),
    Row("accounts:password_reset_done", "GET", "200 200 200 200 200 200 200"),
    Row(
        "accounts:password_reset_confirm",
        "GET",
        "200 200 200 200 200 200 200",
        kwargs=lambda w: {"uidb64": "MQ", "token": "not-a-token"},
    ),
    Row("accounts:password_reset_complete", "GET", "200 200 200 200 200 200 200"),
    Row(
        "accounts:workspace_switch",
        "POST",
        "302 302 302 302 404 302 302",
        data=lambda w: {"workspace_id": w.workspace.pk},
    ),
    Row("accounts:members", "GET", "302 200 200 200 200 302 302"),
    Row(
        "accounts:member_invite",
        "POST",
        "302 403 403 400 403 302 302",
        data=lambda w: {"email": "", "role": "viewer"},
    ),
    Row(
        "accounts:member_role",
        "POST",
        "302 403 403 302 403 302 302",
        kwargs=k(pk="editor_membership"),
        data=lambda w: {"role": "editor"},
    ),
    Row(
        "accounts:member_remove",
        "POST",
        "302 403 403 302 403 302 302",
        kwargs=k(pk="viewer_membership"),
    ),
    Row(
        "accounts:invitation_revoke",
        "POST",
        "302 403 403 302 403 302 302",
        kwargs=k(pk="invitation"),
    ),
    Row("accounts:api_tokens", "GET", "302 200 200 200 200 302 302"),
    Row(
        "accounts:api_token_revoke",
        "POST",
        "302 404 302 404 404 302 302",
        kwargs=k(pk="editor_token"),
    ),
    # --- Webhooks (workspace admins) -------------------------------------------------------
    Row("webhooks:list", "GET", "302 403 403 200 403 302 302"),
    Row("webhooks:create", "GET", "302 403 403 200 403 302 302"),
    Row("webhooks:create", "POST", "302 403 403 400 403 302 302", data=lambda w: {"url": ""}),
    Row("webhooks:edit", "GET", "302 403 403 200 403 302 302", kwargs=k(pk="webhook")),
    Row("webhooks:rotate_secret", "POST", "302 403 403 302 403 302 302", kwargs=k(pk="webhook")),
    Row("webhooks:delete", "POST", "302 403 403 302 403 302 302", kwargs=k(pk="webhook")),
    Row("webhooks:deliveries", "GET", "302 403 403 200 403 302 302", kwargs=k(pk="webhook")),
    Row("webhooks:resend", "POST", "302 403 403 302 403 302 302", kwargs=k(pk="webhook_delivery")),
    # --- Share links and subscribers -------------------------------------------------------
    Row("sharing:list", "GET", PAGE, kwargs=slug),
    Row("sharing:create", "POST", edit(400), kwargs=slug, data=lambda w: {"label": ""}),
    Row("sharing:replace", "POST", edit(), kwargs=slug_and(pk="share_link")),
    Row("sharing:revoke", "POST", edit(), kwargs=slug_and(pk="share_link")),
    Row(
        "sharing:preview",
        "GET",
        PAGE,
        kwargs=lambda w: {"slug": w.product.slug, "audience": "customers"},
    ),
    Row(
        "sharing:subscriber-add",
        "POST",
        edit(400),
        kwargs=slug_and(pk="share_link"),
        data=lambda w: {"email": "not an email"},
    ),
    Row(
        "sharing:subscriber-remove",
        "POST",
        edit(),
        kwargs=slug_and(pk="share_link", subscription_pk="subscription"),
    ),
    Row(
        "sharing:subscriber-preview",
        "GET",
        PAGE,
        kwargs=slug_and(pk="share_link", subscription_pk="subscription"),
    ),
    # --- Public share-link pages and digest links (anyone with the token) -----------------
    Row(
        "external:roadmap",
        "GET",
        "200 200 200 200 200 200 200",
        kwargs=lambda w: {"token": w.share_link.token},
    ),
    Row(
        "external:json",
        "GET",
        "200 200 200 200 200 200 200",
        kwargs=lambda w: {"token": w.share_link.token},
    ),
    Row(
        "external:feed",
        "GET",
        "200 200 200 200 200 200 200",
        kwargs=lambda w: {"token": w.share_link.token},
    ),
    Row(
        "external:releases",
        "GET",
        "200 200 200 200 200 200 200",
        kwargs=lambda w: {"token": w.share_link.token},
    ),
    Row(
        "external:subscribe",
        "POST",
        "400 400 400 400 400 400 400",
        kwargs=lambda w: {"token": w.share_link.token},
        data=lambda w: {"email": "nope"},
    ),
    # --- The portal on a feedback link: votes, requests, "mine", its email links ---------------
    Row(
        "portal:vote",
        "POST",
        "400 400 400 400 400 400 400",
        kwargs=lambda w: {"token": w.feedback_link.token},
        data=lambda w: {"item": "item-000000000000", "email": "nope"},
    ),
    Row(
        "portal:vote_withdraw",
        "POST",
        "302 302 302 302 302 302 302",
        kwargs=lambda w: {"token": w.feedback_link.token},
        data=lambda w: {"item": "item-000000000000"},
    ),
    Row(
        "portal:request",
        "POST",
        "400 400 400 400 400 400 400",
        kwargs=lambda w: {"token": w.feedback_link.token},
        data=lambda w: {"title": "", "email": "nope"},
    ),
    Row(
        "portal:mine",
        "GET",
        "200 200 200 200 200 200 200",
        kwargs=lambda w: {"token": w.feedback_link.token},
    ),
    Row(
        "portal:confirm",
        "GET",
        "200 200 200 200 200 200 200",
        kwargs=lambda w: {"token": w.portal_contact.confirmation_token},
    ),
    Row(
        "portal:unsubscribe",
        "GET",
        "200 200 200 200 200 200 200",
        kwargs=lambda w: {"token": w.portal_unsubscribe_token},
    ),
    Row(
        "digests:confirm",
        "GET",
        "404 404 404 404 404 404 404",
        kwargs=lambda w: {"token": "not-a-token"},
    ),
    Row(
        "digests:unsubscribe",
        "GET",
        "200 200 200 200 200 200 200",
        kwargs=lambda w: {"token": w.unsubscribe_token},
    ),
    # --- Planning app: products and features ------------------------------------------------
    Row("roadmap:home", "GET", "302 200 200 200 200 302 302"),
    Row("roadmap:product", "GET", PAGE, kwargs=slug),
    # --- Planning app: the prioritization table ---------------------------------------------
    Row("roadmap:table_row", "GET", "302 302 302 302 404 302 302", kwargs=slug_and(pk="feature")),
    Row(
        "roadmap:table_edit",
        "POST",
        edit(),
        kwargs=slug_and(pk="feature"),
        data=lambda w: {"reach": "5", "version": w.feature.version},
    ),
    Row("roadmap:table_quick_add", "POST", edit(), kwargs=slug, data=lambda w: {"title": "Quick"}),
    Row(
        "roadmap:table_bulk",
        "POST",
        edit(),
        kwargs=slug,
        data=lambda w: {"features": str(w.feature.pk), "status": "planned"},
    ),
    # Each member's own layout of the table, viewers too.
    Row(
        "roadmap:table_columns",
        "POST",
        "302 302 302 302 404 302 302",
        kwargs=slug,
        data=lambda w: {"shown": ["status", "kano"]},
    ),
    Row("roadmap:feature", "GET", PAGE, kwargs=k(pk="feature")),
    # --- Planning app: new products, feature forms, product settings ----------------------
    # Anyone's own current workspace: the outsider creates a product in theirs.
    Row("roadmap:product_create", "GET", "302 403 200 200 200 302 302"),
    Row(
        "roadmap:product_create",
        "POST",
        "302 403 302 302 302 302 302",
        data=lambda w: {"name": "Brand new", "slug": "brand-new", "scoring_framework": "rice"},
    ),
    Row("roadmap:feature_create", "GET", edit(200), kwargs=slug),
    Row(
        "roadmap:feature_create",
        "POST",
        edit(),
        kwargs=slug,
        data=lambda w: {"title": "Brand new", "status": "idea"},
    ),
    Row("roadmap:feature_edit", "GET", edit(200), kwargs=k(pk="feature")),
    Row(
        "roadmap:feature_edit",
        "POST",
        edit(),
        kwargs=k(pk="feature"),
        data=lambda w: {"title": "Renamed", "status": "idea", "version": w.feature.version},
    ),
    Row("roadmap:feature_delete", "GET", edit(200), kwargs=k(pk="feature")),
    Row("roadmap:feature_delete", "POST", edit(), kwargs=k(pk="feature")),
    Row("roadmap:product_settings", "GET", PAGE, kwargs=slug),
    Row(
        "roadmap:product_settings",
        "POST",
        edit(),
        kwargs=slug,
        data=lambda w: {"name": "Renamed", "slug": w.product.slug},
    ),
    Row("roadmap:product_formula", "GET", PAGE, kwargs=slug),
    Row(
        "roadmap:product_formula",
        "POST",
        edit(),
        kwargs=slug,
        data=lambda w: {"formula": "value / effort", "action": "save"},
    ),
    Row(
        "roadmap:product_scoring",
        "POST",
        edit(),
        kwargs=slug,
        data=lambda w: {"scoring_framework": "ice", "reach_source": "manual", "tie_break": "none"},
    ),
    Row(
        "roadmap:settings_row_add",
        "POST",
        edit(),
        kwargs=lambda w: {"slug": w.product.slug, "section": "lanes"},
        data=lambda w: {"new-lane-name": "Growth", "new-lane-position": "1"},
    ),
    Row(
        "roadmap:settings_row_edit",
        "POST",
        edit(),
        kwargs=lambda w: {"slug": w.product.slug, "section": "lanes", "pk": w.lane.pk},
        data=lambda w: {f"lane-{w.lane.pk}-name": "Renamed", f"lane-{w.lane.pk}-position": "0"},
    ),
    Row(
        "roadmap:settings_row_delete",
        "POST",
        edit(),
        kwargs=lambda w: {"slug": w.product.slug, "section": "lanes", "pk": w.lane.pk},
    ),
    # a product's custom fields (issue 19): the same in-place rows
    Row(
        "roadmap:settings_row_add",
        "POST",
        edit(),
        kwargs=lambda w: {"slug": w.product.slug, "section": "fields"},
        data=lambda w: {"new-custom-field-name": "Deal size", "new-custom-field-kind": "number"},
    ),
    Row(
        "roadmap:settings_row_edit",
        "POST",
        edit(),
        kwargs=lambda w: {"slug": w.product.slug, "section": "fields", "pk": w.custom_field.pk},
        data=lambda w: {
            f"custom-field-{w.custom_field.pk}-name": "Plan",
            f"custom-field-{w.custom_field.pk}-choices": "Gold = 5\nSilver = 1",
        },
    ),
    Row(
        "roadmap:settings_row_delete",
        "POST",
        edit(),
        kwargs=lambda w: {"slug": w.product.slug, "section": "fields", "pk": w.custom_field.pk},
    ),
    # Its only field is first and last: "already first", a redirect back to the settings.
    Row(
        "roadmap:settings_field_move",
        "POST",
        edit(),
        kwargs=lambda w: {"slug": w.product.slug, "pk": w.custom_field.pk},
        data=lambda w: {"direction": "up"},
    ),
    # --- Planning app: board and timeline ---------------------------------------------------
    Row("roadmap:board", "GET", PAGE, kwargs=slug),
    # a board cell's "N more" without JavaScript: a page of that cell
    Row("roadmap:board_cell", "GET", PAGE, kwargs=slug, query="horizon=now&lane="),
    Row("roadmap:timeline", "GET", PAGE, kwargs=slug),
    # every feature of the world is on the roadmap already: the form says so (400)
    Row(
        "roadmap:board_feature_add",
        "POST",
        edit(400),
        kwargs=slug,
        data=lambda w: {"feature": w.feature.pk, "horizon": "now"},
    ),
    Row(
        "roadmap:board_theme_add",
        "POST",
        edit(),
        kwargs=slug,
        data=lambda w: {"title": "Onboarding", "horizon": "now"},
    ),
    Row("roadmap:board_item_move", "GET", edit(200), kwargs=slug_and(pk="item")),
    Row(
        "roadmap:board_item_move",
        "POST",
        edit(),
        kwargs=slug_and(pk="item"),
        data=lambda w: {"horizon": "now", "lane": "", "position": 1},
    ),
    Row(
        "roadmap:board_item_visibility",
        "POST",
        edit(),
        kwargs=slug_and(pk="item"),
        data=lambda w: {"visibility": "external"},
    ),
    # what customers read of an item: members read it (viewers too), editors change it
    Row("roadmap:board_item_text", "GET", PAGE, kwargs=slug_and(pk="item")),
    Row(
        "roadmap:board_item_text",
        "POST",
        edit(),
        kwargs=slug_and(pk="item"),
        data=lambda w: {"external_title": "Faster reports", "external_description": "Soon."},
    ),
    Row(
        "roadmap:board_item_remove",
        "POST",
        edit(),
        kwargs=slug_and(pk="item"),
        data=lambda w: {"confirm": "yes"},
    ),
    Row(
        "roadmap:timeline_item_dates",
        "POST",
        edit(),
        kwargs=slug_and(pk="item"),
        data=lambda w: {"start_date": "2031-01-01", "end_date": "2031-02-01"},
    ),
    # --- Planning app: CSV export and import ------------------------------------------------
    Row("roadmap:features_export", "GET", PAGE, kwargs=slug),
    Row("roadmap:features_import", "GET", edit(200), kwargs=slug),
    Row("roadmap:features_import", "POST", edit(400), kwargs=slug),
    Row(
        "roadmap:features_import_confirm",
        "POST",
        edit(400),
        kwargs=slug,
        data=lambda w: {"upload": "expired-or-unknown-key-0000"},
    ),
    # --- Matrix, personas, insights, objectives (roadmap/evidence/urls.py) -----------------
    Row("roadmap:matrix", "GET", PAGE, kwargs=slug),
    Row("roadmap:personas", "GET", PAGE, kwargs=slug),
    Row("roadmap:personas", "POST", edit(400), kwargs=slug, data=lambda w: {"name": ""}),
    Row("roadmap:persona_edit", "GET", edit(200), kwargs=slug_and(pk="persona")),
    Row(
        "roadmap:persona_edit",
        "POST",
        edit(400),
        kwargs=slug_and(pk="persona"),
        data=lambda w: {"name": ""},
    ),
    Row("roadmap:persona_delete", "GET", edit(200), kwargs=slug_and(pk="persona")),
    Row("roadmap:persona_delete", "POST", edit(), kwargs=slug_and(pk="persona")),
    Row("roadmap:customers", "GET", PAGE, kwargs=slug),
    Row("roadmap:customers", "POST", edit(400), kwargs=slug, data=lambda w: {"name": ""}),
    Row("roadmap:customer", "GET", PAGE, kwargs=slug_and(pk="customer_api")),
    Row("roadmap:customer_edit", "GET", edit(200), kwargs=slug_and(pk="customer_api")),
    Row(
        "roadmap:customer_edit",
        "POST",
        edit(400),
        kwargs=slug_and(pk="customer_api"),
        data=lambda w: {"name": ""},
    ),
    Row("roadmap:customer_delete", "GET", edit(200), kwargs=slug_and(pk="customer_api")),
    Row("roadmap:customer_delete", "POST", edit(), kwargs=slug_and(pk="customer_api")),
    Row(
        "roadmap:customer_merge",
        "POST",
        edit(),
        kwargs=slug_and(pk="customer_api"),
        data=lambda w: {"into": w.customer_api_survivor.pk},
    ),
    Row("roadmap:experiments", "GET", PAGE, kwargs=slug),
    Row("roadmap:experiments", "POST", edit(400), kwargs=slug, data=lambda w: {"hypothesis": ""}),
    Row("roadmap:experiment_edit", "GET", edit(200), kwargs=slug_and(pk="experiment_api")),
    Row(
        "roadmap:experiment_edit",
        "POST",
        edit(400),
        kwargs=slug_and(pk="experiment_api"),
        data=lambda w: {"hypothesis": ""},
    ),
    Row("roadmap:experiment_delete", "GET", edit(200), kwargs=slug_and(pk="experiment_api")),
    Row("roadmap:experiment_delete", "POST", edit(), kwargs=slug_and(pk="experiment_api")),
    Row("roadmap:insights", "GET", PAGE, kwargs=slug),
    Row("roadmap:insights", "POST", edit(400), kwargs=slug, data=lambda w: {"text": ""}),
    # --- Rating rounds (roadmap.planning.views.rating): the viewer and the admin rate ----------
    Row("roadmap:rating_rounds", "GET", PAGE, kwargs=slug),
    Row("roadmap:rating_rounds", "POST", edit(400), kwargs=slug, data=lambda w: {"name": ""}),
    # A rater sees the results once they submit (the viewer has not); editors always.
    Row(
        "roadmap:rating_results",
        "GET",
        "302 403 200 200 404 302 302",
        kwargs=slug_and(pk="rating_round"),
    ),
    # Only the round's raters rate: the editor, not one, is refused.
    Row(
        "roadmap:rating_sheet",
        "GET",
        "302 200 403 200 404 302 302",
        kwargs=slug_and(pk="rating_round"),
    ),
    Row(
        "roadmap:rating_sheet",
        "POST",
        "302 302 403 302 404 302 302",
        kwargs=slug_and(pk="rating_round"),
        data=lambda w: {f"v-{w.feature.pk}-reach": "10"},
    ),
    # Nothing posted, nothing to accept: the form again.
    Row("roadmap:rating_accept", "POST", edit(400), kwargs=slug_and(pk="rating_round")),
    Row("roadmap:rating_close", "POST", edit(), kwargs=slug_and(pk="rating_round")),
    Row("roadmap:rating_reopen", "POST", edit(), kwargs=slug_and(pk="rating_round")),
    # --- The PM's requests inbox (roadmap.portal.views) ---------------------------------------
    Row("roadmap:requests", "GET", PAGE, kwargs=slug),
    Row("roadmap:request", "GET", PAGE, kwargs=slug_and(pk="portal_request")),
    Row(
        "roadmap:request_action",
        "POST",
        edit(400),
        kwargs=lambda w: {"slug": w.product.slug, "pk": w.portal_request.pk, "action": "decline"},
        data=lambda w: {"public_reason": ""},
    ),
    Row("roadmap:feature_ship_notices", "POST", edit(), kwargs=k(pk="feature")),
    # htmx fragments loaded after the product's pages; a plain request is sent to the page.
    Row("roadmap:requests_badge", "GET", "302 302 302 302 404 302 302", kwargs=slug),
    Row("roadmap:feature_demand", "GET", "302 302 302 302 404 302 302", kwargs=k(pk="feature")),
    # An insight's row is an htmx fragment; a plain request is sent to the inbox.
    Row("roadmap:insight", "GET", "302 302 302 302 404 302 302", kwargs=slug_and(pk="insight")),
    Row("roadmap:insight_edit", "GET", edit(200), kwargs=slug_and(pk="insight")),
    Row(
        "roadmap:insight_edit",
        "POST",
        edit(400),
        kwargs=slug_and(pk="insight"),
        data=lambda w: {"text": ""},
    ),
    Row("roadmap:insight_delete", "POST", edit(), kwargs=slug_and(pk="insight")),
    Row("roadmap:objectives", "GET", PAGE, kwargs=slug),
    Row("roadmap:objectives", "POST", edit(400), kwargs=slug, data=lambda w: {"name": ""}),
    Row("roadmap:objective_edit", "GET", edit(200), kwargs=slug_and(pk="objective")),
    Row(
        "roadmap:objective_edit",
        "POST",
        edit(400),
        kwargs=slug_and(pk="objective"),
        data=lambda w: {"name": ""},
    ),
    Row("roadmap:objective_delete", "POST", edit(), kwargs=slug_and(pk="objective")),
    # --- Strategy and launch ---------------------------------------------------------------
    Row("roadmap:strategy", "GET", PAGE, kwargs=slug),
    Row(
        "roadmap:positioning_answer",
        "GET",
        "302 403 200 200 404 302 302",
        kwargs=lambda w: {"slug": w.product.slug, "question": "problem"},
    ),
    Row(
        "roadmap:positioning_answer",
        "POST",
        edit(),
        kwargs=lambda w: {"slug": w.product.slug, "question": "problem"},
        data=lambda w: {"text": "x"},
    ),
    Row("roadmap:positioning_audiences", "POST", edit(), kwargs=slug),
    Row("roadmap:strategy_market", "GET", PAGE, kwargs=slug),
    Row("roadmap:comparison_grid", "POST", edit(), kwargs=slug),
    Row(
        "roadmap:comparison_cell",
        "GET",
        "302 403 200 200 404 302 302",
        kwargs=lambda w: {
            "slug": w.product.slug,
            "pk": w.competitor.pk,
            "kind": "f",
            "target": w.feature.pk,
        },
    ),
    Row("roadmap:competitor_add", "POST", edit(400), kwargs=slug, data=lambda w: {"name": ""}),
    Row(
        "roadmap:competitor_edit",
        "GET",
        "302 403 200 200 404 302 302",
        kwargs=slug_and(pk="competitor"),
    ),
    Row("roadmap:competitor_delete", "POST", edit(), kwargs=slug_and(pk="competitor")),
    Row("roadmap:market_size_add", "POST", edit(400), kwargs=slug),
    Row(
        "roadmap:market_size_edit",
        "GET",
        "302 403 200 200 404 302 302",
        kwargs=slug_and(pk="market_size"),
    ),
    Row("roadmap:market_size_delete", "POST", edit(), kwargs=slug_and(pk="market_size")),
    Row("roadmap:business_case", "GET", PAGE, kwargs=slug),
    Row("roadmap:revenue_model", "POST", edit(400), kwargs=slug, data=lambda w: {"currency": ""}),
    Row("roadmap:price_plan_add", "POST", edit(400), kwargs=slug),
    Row(
        "roadmap:price_plan_edit",
        "GET",
        "302 403 200 200 404 302 302",
        kwargs=slug_and(pk="price_plan"),
    ),
    Row("roadmap:price_plan_delete", "POST", edit(), kwargs=slug_and(pk="price_plan")),
    Row("roadmap:releases", "GET", PAGE, kwargs=slug),
    Row("roadmap:release", "GET", PAGE, kwargs=slug_and(pk="release")),
    Row("roadmap:release_checklist", "POST", edit(), kwargs=slug_and(pk="release")),
    Row("roadmap:release_ship", "POST", edit(400), kwargs=slug_and(pk="release")),
    # Saving the summary alone: nothing shipped is needed.
    Row(
        "roadmap:release_notes",
        "POST",
        edit(),
        kwargs=slug_and(pk="release"),
        data=lambda w: {"public_summary": "What is new", "action": "save"},
    ),
    Row("roadmap:launch_task_add", "POST", edit(400), kwargs=slug_and(pk="release")),
    Row(
        "roadmap:launch_task_edit",
        "GET",
        "302 403 200 200 404 302 302",
        kwargs=slug_and(pk="release", task_pk="launch_task"),
    ),
    Row(
        "roadmap:launch_task_done",
        "POST",
        edit(),
        kwargs=slug_and(pk="release", task_pk="launch_task"),
        data=lambda w: {"done": "1"},
    ),
    Row(
        "roadmap:launch_task_delete",
        "POST",
        edit(),
        kwargs=slug_and(pk="release", task_pk="launch_task"),
    ),
    Row("roadmap:launch_template", "GET", "302 200 200 200 200 302 302"),
    Row(
        "roadmap:launch_template",
        "POST",
        "302 403 403 400 403 302 302",
        data=lambda w: {"title": ""},
    ),
    Row(
        "roadmap:launch_template_edit",
        "GET",
        "302 403 403 200 403 302 302",
        kwargs=k(pk="launch_template_task"),
    ),
    Row(
        "roadmap:launch_template_delete",
        "POST",
        "302 403 403 302 403 302 302",
        kwargs=k(pk="launch_template_task"),
    ),
    # API
    Row("api:positioning-list", "GET", "401 200 200 200 200 200 200", api=True),
    Row(
        "api:positioning-list",
        "POST",
        "401 403 400 400 400 403 400",
        api=True,
        data=lambda w: {"product": w.product.slug},
    ),
    Row("api:positioning-detail", "GET", API_READ, api=True, kwargs=k(pk="positioning")),
    Row(
        "api:positioning-detail",
        "PATCH",
        api_write(200),
        api=True,
        kwargs=k(pk="positioning"),
        data=lambda w: {},
    ),
    Row("api:positioning-answer-list", "GET", "401 200 200 200 200 200 200", api=True),
    Row(
        "api:positioning-answer-list",
        "POST",
        "401 403 201 201 400 403 201",
        api=True,
        data=lambda w: {"product": w.product.slug, "question": "standout"},
    ),
    Row(
        "api:positioning-answer-detail",
        "GET",
        API_READ,
        api=True,
        kwargs=k(pk="positioning_answer"),
    ),
    Row(
        "api:positioning-answer-detail",
        "PATCH",
        api_write(200),
        api=True,
        kwargs=k(pk="positioning_answer"),
        data=lambda w: {},
    ),
    Row("api:revenue-model-list", "GET", "401 200 200 200 200 200 200", api=True),
    Row(
        "api:revenue-model-list",
        "POST",
        "401 403 400 400 400 403 400",
        api=True,
        data=lambda w: {"product": w.product.slug},
    ),
    Row("api:revenue-model-detail", "GET", API_READ, api=True, kwargs=k(pk="revenue_model")),
    Row(
        "api:revenue-model-detail",
        "PATCH",
        api_write(200),
        api=True,
        kwargs=k(pk="revenue_model"),
        data=lambda w: {},
    ),
    Row("api:comparison-list", "GET", "401 200 200 200 200 200 200", api=True),
    Row(
        "api:comparison-list",
        "POST",
        "401 403 201 201 400 403 201",
        api=True,
        data=lambda w: {"competitor": w.competitor.pk, "lane": w.lane.pk, "status": "has"},
    ),
    Row("api:comparison-detail", "GET", API_READ, api=True, kwargs=k(pk="comparison")),
    Row(
        "api:comparison-detail",
        "PATCH",
        api_write(200),
        api=True,
        kwargs=k(pk="comparison"),
        data=lambda w: {},
    ),
    Row("api:comparison-detail", "DELETE", api_write(204), api=True, kwargs=k(pk="comparison")),
    Row("api:launch-template-task-list", "GET", "401 200 200 200 200 200 200", api=True),
    Row(
        "api:launch-template-task-list",
        "POST",
        "401 403 403 201 403 403 403",
        api=True,
        data=lambda w: {"team": "design", "title": "Mockups"},
    ),
    Row(
        "api:launch-template-task-detail",
        "GET",
        API_READ,
        api=True,
        kwargs=k(pk="launch_template_task"),
    ),
    Row(
        "api:launch-template-task-detail",
        "PATCH",
        "401 403 403 200 404 403 403",
        api=True,
        kwargs=k(pk="launch_template_task"),
        data=lambda w: {},
    ),
    Row(
        "api:launch-template-task-detail",
        "DELETE",
        "401 403 403 204 404 403 403",
        api=True,
        kwargs=k(pk="launch_template_task"),
    ),
    Row("api:launch-task-list", "GET", "401 200 200 200 200 200 200", api=True),
    Row(
        "api:launch-task-list",
        "POST",
        "401 403 201 201 400 403 201",
        api=True,
        data=lambda w: {"release": w.release.pk, "team": "sales", "title": "Deck"},
    ),
    Row("api:launch-task-detail", "GET", API_READ, api=True, kwargs=k(pk="launch_task")),
    Row(
        "api:launch-task-detail",
        "PATCH",
        api_write(200),
        api=True,
        kwargs=k(pk="launch_task"),
        data=lambda w: {},
    ),
    Row("api:launch-task-detail", "DELETE", api_write(204), api=True, kwargs=k(pk="launch_task")),
    Row("api:launch-task-complete", "POST", api_write(200), api=True, kwargs=k(pk="launch_task")),
    Row("api:launch-task-reopen", "POST", api_write(200), api=True, kwargs=k(pk="launch_task")),
    Row("api:release-checklist", "POST", api_write(201), api=True, kwargs=k(pk="release")),
    Row("api:release-readiness", "GET", API_READ, api=True, kwargs=k(pk="release")),
    Row("api:release-ship", "POST", api_write(400), api=True, kwargs=k(pk="release")),
    Row("api:product-business-case", "GET", API_READ, api=True, kwargs=slug),
    # --- REST API ----------------------------------------------------------------------------
    Row("api:api-root", "GET", "401 200 200 200 200 200 200", api=True),
    Row("api:product-list", "GET", "401 200 200 200 200 200 200", api=True),
    Row(
        "api:product-list",
        "POST",
        "401 403 201 201 201 403 201",
        api=True,
        data=lambda w: {"name": "New product", "slug": "new-product"},
    ),
    Row("api:product-detail", "GET", API_READ, api=True, kwargs=slug),
    Row(
        "api:product-detail",
        "PATCH",
        api_write(200),
        api=True,
        kwargs=slug,
        data=lambda w: {"vision": "Sharper"},
    ),
    Row("api:product-detail", "DELETE", "401 403 403 204 404 403 403", api=True, kwargs=slug),
    Row("api:product-priorities", "GET", API_READ, api=True, kwargs=slug),
    Row("api:product-formula-versions", "GET", API_READ, api=True, kwargs=slug),
    Row("api:feature-list", "GET", "401 200 200 200 200 200 200", api=True),
    Row(
        "api:feature-list",
        "POST",
        "401 403 201 201 400 403 201",
        api=True,
        data=lambda w: {"product": w.product.slug, "title": "From the API"},
    ),
    Row("api:feature-detail", "GET", API_READ, api=True, kwargs=k(pk="feature")),
    Row(
        "api:feature-detail",
        "PATCH",
        api_write(200),
        api=True,
        kwargs=k(pk="feature"),
        data=lambda w: {"effort": "3"},
    ),
    Row("api:feature-detail", "DELETE", api_write(204), api=True, kwargs=k(pk="feature")),
    Row(
        "api:roadmap-item-move",
        "POST",
        api_write(200),
        api=True,
        kwargs=k(pk="item"),
        data=lambda w: {"horizon": "now", "position": 0},
    ),
    Row("api:webhook-list", "GET", "401 403 403 200 403 403 403", api=True),
    Row(
        "api:webhook-detail", "GET", "401 403 403 200 403 403 403", api=True, kwargs=k(pk="webhook")
    ),
    Row(
        "api:webhook-rotate-secret",
        "POST",
        "401 403 403 200 403 403 403",
        api=True,
        kwargs=k(pk="webhook"),
    ),
    Row(
        "api:webhook-delivery-resend",
        "POST",
        "401 403 403 202 403 403 403",
        api=True,
        kwargs=k(pk="webhook_delivery"),
    ),
    Row("api:webhook-delivery-list", "GET", "401 403 403 200 403 403 403", api=True),
    Row(
        "api:webhook-delivery-detail",
        "GET",
        "401 403 403 200 403 403 403",
        api=True,
        kwargs=k(pk="webhook_delivery"),
    ),
]

# The plain resources share one viewset shape: list, create, detail, update, delete.
for _basename, _attr, _create in (
    ("persona", "persona", lambda w: {"product": w.product.slug, "name": "Ops lead"}),
    (
        "insight",
        "insight",
        lambda w: {
            "product": w.product.slug,
            "source": "interview",
            "customer": "Acme",
            "text": "Needs SSO",
        },
    ),
    (
        "objective",
        "objective",
        lambda w: {"product": w.product.slug, "name": "Grow", "metric": "WAU", "target": "10"},
    ),
    ("release", "release", lambda w: {"product": w.product.slug, "name": "R9"}),
    ("lane", "lane", lambda w: {"product": w.product.slug, "name": "Mobile"}),
    ("roadmap-item", "item", lambda w: {"product": w.product.slug, "title": "A theme"}),
):
    ROWS += [
        Row(f"api:{_basename}-list", "GET", "401 200 200 200 200 200 200", api=True),
        Row(f"api:{_basename}-list", "POST", "401 403 201 201 400 403 201", api=True, data=_create),
        Row(f"api:{_basename}-detail", "GET", API_READ, api=True, kwargs=k(pk=_attr)),
        Row(
            f"api:{_basename}-detail",
            "PATCH",
            api_write(200),
            api=True,
            kwargs=k(pk=_attr),
            data=lambda w: {},
        ),
        Row(f"api:{_basename}-detail", "DELETE", api_write(204), api=True, kwargs=k(pk=_attr)),
    ]


for _basename, _attr, _create in (  # strategy resources
    ("competitor", "competitor", lambda w: {"product": w.product.slug, "name": "Zen"}),
    (
        "market-size",
        "market_size",
        lambda w: {
            "product": w.product.slug,
            "kind": "tam",
            "value": "1",
            "source": "x",
            "as_of": "2026-01-01",
        },
    ),
    (
        "price-plan",
        "price_plan",
        lambda w: {"product": w.product.slug, "name": "Pro", "yearly_price": "10"},
    ),
):
    ROWS += [
        Row(f"api:{_basename}-list", "GET", "401 200 200 200 200 200 200", api=True),
        Row(f"api:{_basename}-list", "POST", "401 403 201 201 400 403 201", api=True, data=_create),
        Row(f"api:{_basename}-detail", "GET", API_READ, api=True, kwargs=k(pk=_attr)),
        Row(
            f"api:{_basename}-detail",
            "PATCH",
            api_write(200),
            api=True,
            kwargs=k(pk=_attr),
            data=lambda w: {},
        ),
        Row(f"api:{_basename}-detail", "DELETE", api_write(204), api=True, kwargs=k(pk=_attr)),
    ]


def product_and(**names):
    """kwargs of a route under /api/v1/products/<product_slug>/."""
    inner = k(**names)
    return lambda world: {"product_slug": world.product.slug, **inner(world)}


# The voice of the customer: requests and votes under their product, the embeddable form.
ROWS += [
    Row(
        "portal_embed:request",
        "GET",
        "200 200 200 200 200 200 200",
        kwargs=lambda w: {"token": w.feedback_link.token},
    ),
    Row(  # without the form's own token: refused, whoever sends it
        "portal_embed:request",
        "POST",
        "400 400 400 400 400 400 400",
        kwargs=lambda w: {"token": w.feedback_link.token},
        data=lambda w: {"title": "PDF", "email": "ana@acme.example"},
    ),
    Row("api:product-request-list", "GET", API_READ, api=True, kwargs=product_and()),
    Row(
        "api:product-request-list",
        "POST",
        "401 403 201 201 404 403 201",
        api=True,
        kwargs=product_and(),
        data=lambda w: {"title": "SSO", "email": "ana@acme.example"},
    ),
    Row(
        "api:product-request-detail",
        "GET",
        API_READ,
        api=True,
        kwargs=product_and(pk="portal_request"),
    ),
    Row(
        "api:product-request-link",
        "POST",
        api_write(200),
        api=True,
        kwargs=product_and(pk="portal_request"),
        data=lambda w: {"feature": w.feature.pk},
    ),
    Row(
        "api:product-request-decline",
        "POST",
        api_write(200),
        api=True,
        kwargs=product_and(pk="portal_request"),
        data=lambda w: {"public_reason": "Not for us."},
    ),
    Row(
        "api:product-request-merge",
        "POST",
        api_write(200),
        api=True,
        kwargs=product_and(pk="portal_request"),
        data=lambda w: {"merged_into": w.portal_request_survivor.pk},
    ),
    Row(
        "api:product-request-spam",
        "POST",
        api_write(200),
        api=True,
        kwargs=product_and(pk="portal_request"),
    ),
    Row(  # a new request is not declined: the editors reach the service's refusal
        "api:product-request-reopen",
        "POST",
        api_write(400),
        api=True,
        kwargs=product_and(pk="portal_request"),
    ),
    Row("api:product-vote-list", "GET", API_READ, api=True, kwargs=product_and()),
    Row(
        "api:product-vote-list",
        "POST",
        "401 403 201 201 404 403 201",
        api=True,
        kwargs=product_and(),
        data=lambda w: {"item": w.item.pk, "email": "new@acme.example"},
    ),
    Row("api:product-vote-detail", "GET", API_READ, api=True, kwargs=product_and(pk="portal_vote")),
    Row(
        "api:product-vote-detail",
        "DELETE",
        api_write(204),
        api=True,
        kwargs=product_and(pk="portal_vote"),
    ),
    # Rating rounds (roadmap.planning.api.rating): the viewer and the admin are its raters.
    Row("api:product-rating-round-list", "GET", API_READ, api=True, kwargs=product_and()),
    Row(
        "api:product-rating-round-list",
        "POST",
        api_write(201),
        api=True,
        kwargs=product_and(),
        data=lambda w: {
            "name": "Q4 bets",
            "features": [w.feature.pk],
            "raters": [w.users["viewer"].email],
        },
    ),
    Row(
        "api:product-rating-round-detail",
        "GET",
        API_READ,
        api=True,
        kwargs=product_and(pk="rating_round"),
    ),
    # Only the round's raters rate, a viewer too; the editor is not one.
    Row(
        "api:product-rating-round-ratings",
        "POST",
        "401 200 403 200 404 403 403",
        api=True,
        kwargs=product_and(pk="rating_round"),
        data=lambda w: {"values": [{"feature": w.feature.pk, "input": "reach", "value": "10"}]},
    ),
    # Nothing rated yet, nothing to accept: a 400 for those who may accept.
    Row(
        "api:product-rating-round-accept",
        "POST",
        api_write(400),
        api=True,
        kwargs=product_and(pk="rating_round"),
    ),
    Row(
        "api:product-rating-round-close",
        "POST",
        api_write(200),
        api=True,
        kwargs=product_and(pk="rating_round"),
    ),
    Row(
        "api:product-rating-round-reopen",
        "POST",
        api_write(200),
        api=True,
        kwargs=product_and(pk="rating_round"),
    ),
    Row(
        "api:customer-merge",
        "POST",
        api_write(200),
        api=True,
        kwargs=k(pk="customer_api"),
        data=lambda w: {"into": w.customer_api_survivor.pk},
    ),
]

for _basename, _attr, _create in (  # customers and experiments
    ("customer", "customer_api", lambda w: {"product": w.product.slug, "name": "Initech"}),
    (
        "experiment",
        "experiment_api",
        lambda w: {"product": w.product.slug, "hypothesis": "Admins want SSO"},
    ),
):
    ROWS += [
        Row(f"api:{_basename}-list", "GET", "401 200 200 200 200 200 200", api=True),
        Row(f"api:{_basename}-list", "POST", "401 403 201 201 400 403 201", api=True, data=_create),
        Row(f"api:{_basename}-detail", "GET", API_READ, api=True, kwargs=k(pk=_attr)),
        Row(
            f"api:{_basename}-detail",
            "PATCH",
            api_write(200),
            api=True,
            kwargs=k(pk=_attr),
            data=lambda w: {},
        ),
        Row(f"api:{_basename}-detail", "DELETE", api_write(204), api=True, kwargs=k(pk=_attr)),
    ]


class World:
    """One workspace with one of everything, its members, tokens, and an outsider."""

    def __init__(self):
        self.workspace = f.WorkspaceFactory()
        self.other_workspace = f.WorkspaceFactory()
        self.users = {}
        memberships = {}
        for role in (Role.VIEWER, Role.EDITOR, Role.ADMIN):
            membership = f.MembershipFactory(workspace=self.workspace, role=role)
            self.users[role.value] = membership.user
            memberships[role.value] = membership
        self.viewer_membership = memberships["viewer"]
        self.editor_membership = memberships["editor"]
        self.users["other"] = f.MembershipFactory(workspace=self.other_workspace).user

        self.product = f.ProductFactory(workspace=self.workspace)
        self.feature = f.FeatureFactory(product=self.product)
        self.persona = f.PersonaFactory(product=self.product)
        self.insight = f.InsightFactory(product=self.product)
        self.objective = f.ObjectiveFactory(product=self.product)
        self.release = f.ReleaseFactory(product=self.product)
        self.lane = f.LaneFactory(product=self.product)
        self.custom_field = f.CustomFieldFactory(product=self.product, name="Tier", kind="choice")
        f.CustomFieldChoiceFactory(field=self.custom_field, label="Gold", value=3)
        self.item = f.RoadmapItemFactory(
            product=self.product, feature=self.feature, horizon="next", lane=self.lane
        )
        self.competitor = f.CompetitorFactory(product=self.product)
        self.comparison = f.ComparisonFactory(competitor=self.competitor, feature=self.feature)
        self.market_size = f.MarketSizeFactory(product=self.product)
        self.price_plan = f.PricePlanFactory(product=self.product)
        self.revenue_model = f.RevenueModelFactory(product=self.product)
        self.positioning = f.PositioningFactory(product=self.product)
        self.positioning_answer = f.PositioningAnswerFactory(
            positioning=self.positioning, question="problem"
        )
        self.launch_template_task = f.LaunchTemplateTaskFactory(workspace=self.workspace)
        self.launch_task = f.LaunchTaskFactory(release=self.release)
        self.share_link = f.ShareLinkFactory(product=self.product)
        self.subscription = digest_services.subscription_add(
            product=self.product, share_link=self.share_link, email="cto@customer.example"
        )
        self.unsubscribe_token = (
            digest_services.unsubscribe_url(self.subscription).rstrip("/").split("/")[-1]
        )
        self.feedback_link = f.ShareLinkFactory(product=self.product, allow_feedback=True)
        from roadmap.models import Contact
        from roadmap.portal.notices import unsubscribe_url as portal_unsubscribe_url

        self.portal_contact = Contact.objects.create(
            product=self.product, email="voter@customer.example"
        )
        self.portal_unsubscribe_token = (
            portal_unsubscribe_url(self.portal_contact).rstrip("/").split("/")[-1]
        )
        # The API's requests, votes, customers and experiments (roadmap.portal.api, evidence.api).
        from roadmap.models import Customer, Experiment
        from roadmap.portal.services import request_import, vote_import

        self.portal_request = request_import(
            product=self.product, title="SSO", email="ana@buyer.example"
        )
        self.portal_request_survivor = request_import(
            product=self.product, title="Single sign-on", email="bo@buyer.example"
        )
        self.portal_vote, _ = vote_import(item=self.item, email="ana@buyer.example")
        self.customer_api = Customer.objects.create(product=self.product, name="Zeta Corp")
        self.customer_api_survivor = Customer.objects.create(product=self.product, name="Omega")
        self.experiment_api = Experiment.objects.create(
            product=self.product, hypothesis="We believe admins want SSO"
        )
        from roadmap.planning.services.rating import round_create

        self.rating_round = round_create(
            product=self.product,
            name="Q3 planning",
            features=[self.feature],
            raters=[self.users["viewer"], self.users["admin"]],
        )

        from accounts.services import invitation_create
        from roadmap.models import WebhookDelivery, WebhookEndpoint

        self.invitation, self.invitation_token = invitation_create(
            workspace=self.workspace,
            email="new@example.com",
            role=Role.VIEWER,
            invited_by=self.users["admin"],
        )
        self.webhook = WebhookEndpoint.objects.create(
            workspace=self.workspace, url="https://hooks.example.com/in", events=["feature.updated"]
        )
        self.webhook_delivery = WebhookDelivery.objects.create(
            endpoint=self.webhook, event="feature.updated", payload={}
        )
        self.tokens = {}
        for role in ("viewer", "editor", "admin"):
            self.tokens[role] = self._token(self.users[role], self.workspace, "write")
        self.tokens["other"] = self._token(self.users["other"], self.other_workspace, "write")
        self.tokens["read"] = self._token(self.users["editor"], self.workspace, "read")
        self.tokens["write"] = self.tokens["editor"]
        self.editor_token = self.users["editor"].api_tokens.first()

    @staticmethod
    def _token(user, workspace, scope):
        _, raw = api_token_issue(user=user, workspace=workspace, name=f"{scope} token", scope=scope)
        return raw

    def client(self, caller: str, *, api: bool) -> Client:
        if api:
            client = APIClient()
            if caller != "anon":
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.tokens[caller]}")
            return client
        client = Client()
        if caller in ("viewer", "editor", "admin", "other"):
            client.force_login(self.users[caller])
        elif caller in ("read", "write"):
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {self.tokens[caller]}"
        return client


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    """The world, built once per module in a transaction rolled back at the module's end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield World()
        transaction.set_rollback(True)


@pytest.fixture
def world(_module_world, db):
    """Each test runs in a savepoint inside the module's transaction (the ``db`` fixture): what
    one request writes, the next test does not see."""
    return _module_world


def _route_names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            names |= _route_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(namespace + pattern.name)
    return names


def test_every_route_has_a_row():
    """A new route fails here until the table says who may call it."""
    routes = {
        name
        for name in _route_names(get_resolver())
        if name.split(":")[0] not in NOT_IN_TABLE_NAMESPACES or name == "admin:index"
    }
    covered = {row.name for row in ROWS}

    assert sorted(routes - covered) == [], "routes without a row in the permission table"
    assert sorted(covered - routes) == [], "rows for routes that do not exist"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_permission_table(world, row, caller):
    client = world.client(caller, api=row.api)
    url = reverse(row.name, kwargs=row.kwargs(world) if row.kwargs else None)
    if row.query:
        url += "?" + row.query
    body = row.data(world) if row.data else {}
    kwargs = {"format": "json"} if row.api and row.method != "GET" else {}

    response = getattr(client, row.method.lower())(url, body, **kwargs)

    assert response.status_code == row.statuses()[caller], (
        f"{row.id} as {caller}: {response.status_code}"
    )
    if (
        response.status_code == 302
        and caller == "anon"
        and row.statuses()["editor"] != 302
        and not row.name.startswith("admin:")
    ):
        # Refused callers are sent to log in (allowed ones may be redirected elsewhere).
        assert response["Location"].startswith(reverse("accounts:login")), response["Location"]
