"""Script injection, everywhere at once: every text field of every record holds markup that
would run if it reached a page unescaped, then every page of the permission table, the external
roadmap, its feed and the digest emails are read and parsed.

A page passes when no executable markup of ours survives: no <script> element with our marker, no
``on*=`` event handler attribute and no ``javascript:`` URL carrying it. Escaped text is fine (and
expected: the page still shows what the user typed).
"""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.db import models
from django.urls import reverse
from django.utils import timezone

from roadmap.models import Feature, RoadmapItem, Subscription
from roadmap.planning.services import features as feature_services
from roadmap.planning.services import roadmap as records
from roadmap.sharing.services import digests as digest_services
from tests.test_permissions import ROWS, World

MARKER = "xss1337"
LONG = (
    f'<script>{MARKER}()</script><img src=x onerror="{MARKER}()">'
    f'"><svg onload={MARKER}()>[link](javascript:{MARKER}())'
)
SHORT = f"<svg onload={MARKER}>"  # fits a 20-character field

# Text fields that are not free text a person types: identifiers, secrets, addresses.
NOT_FREE_TEXT = {"slug", "email", "token", "prefix", "secret", "url", "password", "key"}


def _is_free_text(field: models.Field) -> bool:
    return (
        isinstance(field, models.CharField | models.TextField)
        and not field.choices
        and not field.primary_key
        and not any(part in field.name for part in NOT_FREE_TEXT)
        and field.name not in ("password", "last_login")
        and (field.max_length is None or field.max_length >= len(SHORT))
    )


def _inject(instance: models.Model) -> list[str]:
    """Write the payload into every free-text field (with update(): an attacker reaches the
    database through forms and the API, which do not strip markup)."""
    values = {}
    for field in instance._meta.concrete_fields:
        if _is_free_text(field):
            payload = LONG if field.max_length is None or field.max_length >= len(LONG) else SHORT
            # Unique fields keep a distinguishing suffix when it fits.
            values[field.attname] = payload
    if values:
        type(instance)._default_manager.filter(pk=instance.pk).update(**values)
        for name, value in values.items():
            setattr(instance, name, value)
    return sorted(values)


class ExecutableMarkup(HTMLParser):
    """Collects executable markup that carries the marker."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and MARKER in value:
                self.found.append(f"<{tag} {name}={value!r}>")
            if value.strip().lower().startswith("javascript:") and MARKER in value:
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and MARKER in data:
            self.found.append(f"<script>{data[:80]}</script>")


def executable(html: str) -> list[str]:
    parser = ExecutableMarkup()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.fixture
def poisoned(db):
    world = World()
    for model_instance in (
        world.workspace,
        *world.users.values(),
        world.product,
        world.feature,
        world.persona,
        world.insight,
        world.objective,
        world.release,
        world.lane,
        world.item,
        world.share_link,
        world.subscription,
        world.webhook,
    ):
        _inject(model_instance)
    for tag_name in ("alpha",):
        feature_services.feature_update(feature=world.feature, data={}, tags=[tag_name])
    for tag in world.feature.tags.all():
        _inject(tag)
    world.insight.features.add(world.feature)
    world.objective.features.add(world.feature)
    world.feature.personas.add(world.persona)
    # Changes for the digests and the "recently changed" parts of pages.
    records.roadmap_item_save(
        product=world.product, item=world.item, data={"visibility": "external"}
    )
    records.roadmap_item_move(
        item=RoadmapItem.objects.get(pk=world.item.pk), horizon="now", position=0
    )
    feature_services.feature_update(
        feature=Feature.objects.get(pk=world.feature.pk), data={"status": "shipped"}
    )
    return world


def test_every_free_text_field_is_poisoned(poisoned):
    assert "requirements" in _inject(poisoned.feature)
    assert "external_description" in _inject(poisoned.item)
    assert Feature.objects.get(pk=poisoned.feature.pk).title.startswith("<script>")


GET_PAGES = [row for row in ROWS if row.method == "GET" and not row.api]


@pytest.mark.parametrize("row", GET_PAGES, ids=lambda row: row.id)
def test_no_page_runs_user_markup(poisoned, row):
    client = poisoned.client("admin", api=False)
    url = reverse(row.name, kwargs=row.kwargs(poisoned) if row.kwargs else None)

    response = client.get(url + ("?" + row.query if row.query else ""))

    assert response.status_code in (200, 302, 403, 404), response.status_code
    if response.get("Content-Type", "").startswith(("text/html", "application/atom+xml")):
        assert executable(response.content.decode()) == []


def test_htmx_fragments_run_no_user_markup(poisoned):
    client = poisoned.client("editor", api=False)
    for row in GET_PAGES:
        if not row.name.startswith("roadmap:"):
            continue
        url = reverse(row.name, kwargs=row.kwargs(poisoned) if row.kwargs else None)
        response = client.get(url, headers={"HX-Request": "true"})
        if response.get("Content-Type", "").startswith("text/html"):
            assert executable(response.content.decode()) == [], row.name


def test_external_pages_and_feed_run_no_user_markup(poisoned, client):
    token = poisoned.share_link.token
    for name in ("external:roadmap", "external:feed"):
        response = client.get(reverse(name, kwargs={"token": token}))
        assert response.status_code == 200
        assert executable(response.content.decode()) == [], name


@pytest.mark.parametrize("external", [True, False])
def test_digest_emails_run_no_user_markup(poisoned, external):
    subscription = poisoned.subscription
    if not external:
        subscription = Subscription.objects.create(
            product=poisoned.product,
            email="pm@example.com",
            user=poisoned.users["editor"],
            confirmed_at=timezone.now(),
        )
    now = timezone.now()

    digest = digest_services.digest_build(
        subscription=subscription, since=now - datetime.timedelta(days=1), until=now
    )

    assert digest is not None and digest.entries > 0
    assert executable(digest.html) == []
    message = digest_services.digest_message(subscription=subscription, digest=digest)
    assert MARKER in message.body  # the text part shows it, as text
