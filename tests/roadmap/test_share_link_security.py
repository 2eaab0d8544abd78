"""Issue 16, second pass, on share links: the token is not stored (16.12), password guesses are
limited per link as well as per client (16.6), the sign-up form can't be used to mail strangers
(16.7), and only https origins of one owner may embed a roadmap (16.14)."""

import datetime
import email
import importlib
from email import policy

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from roadmap.models import ShareLink, Subscription
from roadmap.planning.services.roadmap import roadmap_item_move
from roadmap.sharing.models.sharing import share_token_hash
from roadmap.sharing.services import sharing
from roadmap.sharing.services.digests import digest_build, subscription_add
from tests import factories as f
from tests.test_settings import SECRET, _settings

forget_names = importlib.import_module("roadmap.migrations.0012_forget_signup_names")

pytestmark = pytest.mark.urls("tests.roadmap.urls_with_sharing")

LEGACY_TOKEN = "made-before-hashing-" + "x" * 23


def _page(token):
    return reverse("external:roadmap", kwargs={"token": token})


def _list(product):
    return reverse("sharing:list", kwargs={"slug": product.slug})


def _legacy(link):
    """``link`` as migration 0008 left a link made before hashing: no salt, its token's hash."""
    ShareLink.objects.filter(pk=link.pk).update(
        token_salt="", token_hash=share_token_hash(LEGACY_TOKEN)
    )
    link.refresh_from_db()
    return link


@pytest.fixture
def shown_item(product):
    return f.RoadmapItemFactory(
        product=product, visibility="external", external_title="Exports", horizon="now"
    )


# --- 16.12 The token is not stored ---------------------------------------------------------------


def test_no_column_of_a_link_holds_its_token_and_the_token_opens_it(client, product, shown_item):
    link = sharing.share_link_create(product=product, label="Acme QBR")
    token = link.token

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM roadmap_sharelink WHERE id = %s", [link.pk])
        [row] = cursor.fetchall()

    assert len(token) == 43
    assert not any(token in str(value) for value in row)
    response = client.get(_page(token))
    assert response.status_code == 200
    assert "Exports" in response.content.decode()


def test_a_link_made_before_hashing_still_opens_and_its_page_says_its_address_is_gone(
    client, editor_client, product, shown_item
):
    link = _legacy(f.ShareLinkFactory(product=product, label="Old QBR"))

    visit = client.get(_page(LEGACY_TOKEN))
    subscribe_form = f'action="{reverse("external:subscribe", kwargs={"token": LEGACY_TOKEN})}"'
    share_page = editor_client.get(_list(product)).content.decode()

    assert link.token is None
    assert visit.status_code == 200
    assert "Exports" in visit.content.decode() and subscribe_form in visit.content.decode()
    assert "its address can't be shown again. It still works for everyone who has it." in (
        share_page
    )
    assert reverse("sharing:replace", kwargs={"slug": product.slug, "pk": link.pk}) in share_page
    assert f'id="share-url-{link.pk}"' not in share_page


def test_viewers_are_told_but_offered_no_replacement(viewer_client, product):
    link = _legacy(f.ShareLinkFactory(product=product))

    page = viewer_client.get(_list(product)).content.decode()

    assert "can't be shown again" in page
    assert reverse("sharing:replace", kwargs={"slug": product.slug, "pk": link.pk}) not in page


def test_a_replacement_copies_the_settings_takes_the_subscribers_and_leaves_the_old_link(
    client, editor_client, editor, product, site_url
):
    old = _legacy(
        sharing.share_link_create(
            product=product,
            label="Board",
            audience="investors",
            password="open sesame",
            embed_origins="https://intranet.example.com",
        )
    )
    subscription = subscription_add(product=product, share_link=old, email="cfo@example.org")

    response = editor_client.post(
        reverse("sharing:replace", kwargs={"slug": product.slug, "pk": old.pk}), follow=True
    )

    new = ShareLink.objects.exclude(pk=old.pk).get()
    assert response.redirect_chain == [(_list(product), 302)]
    assert (new.label, new.audience, new.password_hash, new.embed_origins) == (
        "Board",
        "investors",
        old.password_hash,
        ["https://intranet.example.com"],
    )
    assert new.created_by == editor and new.token
    assert f"{site_url}/r/{new.token}/" in response.content.decode()
    assert Subscription.objects.get(pk=subscription.pk).share_link == new
    assert client.get(_page(LEGACY_TOKEN)).status_code == 200  # until revoked


def test_a_revoked_link_is_not_replaced(editor_client, product):
    old = _legacy(f.ShareLinkFactory(product=product, revoked_at=timezone.now()))

    response = editor_client.post(
        reverse("sharing:replace", kwargs={"slug": product.slug, "pk": old.pk})
    )

    assert response.status_code == 404
    assert list(ShareLink.objects.all()) == [old]


def test_after_a_key_rotation_the_old_key_in_the_fallbacks_still_shows_and_opens_the_link(
    client, editor_client, product, settings, site_url
):
    old_key = settings.SECRET_KEY
    link = sharing.share_link_create(product=product, label="Acme QBR")
    token = link.token

    settings.SECRET_KEY = "a-new-secret-key-" + "k" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    rotated = ShareLink.objects.get(pk=link.pk)
    share_page = editor_client.get(_list(product)).content.decode()

    assert rotated.token == token
    assert f"{site_url}/r/{token}/" in share_page
    assert client.get(_page(token)).status_code == 200
    # Without the old key the address can't be derived any more; the link still opens.
    settings.SECRET_KEY_FALLBACKS = []
    assert ShareLink.objects.get(pk=link.pk).token is None
    assert client.get(_page(token)).status_code == 200


def test_an_operator_lists_the_old_keys_in_secret_key_fallbacks():
    fallbacks = _settings(
        "settings.SECRET_KEY_FALLBACKS",
        DEBUG="0",
        SECRET_KEY=SECRET,
        SECRET_KEY_FALLBACKS="old-key-1,old-key-2",
    )

    assert fallbacks == ["old-key-1", "old-key-2"]


def test_a_digest_of_a_link_made_before_hashing_leaves_the_link_out(product, shown_item):
    link = _legacy(f.ShareLinkFactory(product=product))
    subscription = subscription_add(product=product, share_link=link, email="cto@example.org")
    since = timezone.now() - datetime.timedelta(seconds=1)
    roadmap_item_move(item=shown_item, horizon="later", position=0)

    digest = digest_build(subscription=subscription, since=since, until=timezone.now())

    assert digest is not None
    for body in (digest.text, digest.html):
        assert "Exports" in body
        assert "/r/" not in body and "See the roadmap" not in body
        assert "/digests/unsubscribe/" in body


def test_the_admin_shows_no_token_and_no_search_finds_one(product):
    link = sharing.share_link_create(product=product, label="Acme QBR")
    admin = Client()
    admin.force_login(User.objects.create_superuser(email="root@example.com", password="x-Adm1n!"))

    change = admin.get(reverse("admin:roadmap_sharelink_change", args=[link.pk]))
    search = admin.get(reverse("admin:roadmap_sharelink_changelist"), {"q": link.token})

    assert change.status_code == 200 and link.token not in change.content.decode()
    assert search.status_code == 200 and search.context["cl"].result_count == 0


# --- 16.6 Password guesses, per link and per client ----------------------------------------------


@pytest.fixture
def locked(product):
    return sharing.share_link_create(product=product, label="Board", password="open sesame")


def _guess(client, link, address, password="guess"):
    return client.post(_page(link.token), {"password": password}, REMOTE_ADDR=address)


def test_nine_addresses_together_get_no_more_guesses_than_the_link_allows(client, locked):
    statuses = [
        _guess(client, locked, f"127.0.0.{n}").status_code
        for n in range(1, 10)
        for _ in range(sharing.PASSWORD_ATTEMPTS)
    ]

    assert statuses.count(400) == sharing.PASSWORD_ATTEMPTS_PER_LINK == 20
    assert statuses.count(429) == 9 * sharing.PASSWORD_ATTEMPTS - 20
    # Until the window ends, the link takes no answer, not even the right one from a new address
    assert _guess(client, locked, "198.51.100.1", "open sesame").status_code == 429


def test_the_link_limit_is_per_link(client, product, locked):
    other = sharing.share_link_create(product=product, label="Other", password="open sesame")
    for n in range(1, 6):
        for _ in range(sharing.PASSWORD_ATTEMPTS):
            _guess(client, locked, f"2001:db8:{n}::1")

    assert _guess(client, other, "2001:db8:9::1", "open sesame").status_code == 302


def test_two_addresses_in_one_ipv6_64_share_one_budget(client, locked):
    for _ in range(sharing.PASSWORD_ATTEMPTS):
        assert _guess(client, locked, "2001:db8:1:2::1").status_code == 400

    assert _guess(client, locked, "2001:db8:1:2:ffff::9", "open sesame").status_code == 429
    assert _guess(client, locked, "2001:db8:1:3::1", "open sesame").status_code == 302


def test_right_answers_use_up_nothing(locked):
    for _ in range(sharing.PASSWORD_ATTEMPTS_PER_LINK + 5):
        assert (
            sharing.share_link_check_password(
                share_link=locked, password="open sesame", client="203.0.113.5"
            )
            is sharing.PasswordCheck.OK
        )

    results = [
        sharing.share_link_check_password(share_link=locked, password="guess", client="203.0.113.5")
        for _ in range(sharing.PASSWORD_ATTEMPTS + 1)
    ]
    assert results == [sharing.PasswordCheck.WRONG] * 5 + [sharing.PasswordCheck.LIMITED]


# --- 16.7 The sign-up form mails no stranger's text, and +tags share a mailbox's limit ------------


def _subscribe(client, link, address, **data):
    return client.post(
        reverse("external:subscribe", kwargs={"token": link.token}),
        {"frequency": "weekly", **data},
        REMOTE_ADDR=address,
    )


def test_plus_addresses_of_one_mailbox_share_its_limit(
    client, product, mailoutbox, django_capture_on_commit_callbacks
):
    link = f.ShareLinkFactory(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            _subscribe(client, link, f"198.51.100.{n}", email=f"Victim+{n}@Example.org").status_code
            for n in range(1, 6)
        ]

    assert statuses == [200, 200, 200, 429, 429]
    assert [m.to for m in mailoutbox] == [[f"victim+{n}@example.org"] for n in range(1, 4)]


def test_the_confirmation_email_carries_nothing_the_requester_typed_but_the_address(
    client, product, mailoutbox, django_capture_on_commit_callbacks
):
    link = f.ShareLinkFactory(product=product)
    phishing = "Your account is locked. Verify at https://evil.example"

    with django_capture_on_commit_callbacks(execute=True):
        response = _subscribe(client, link, "203.0.113.9", email="robin@example.org", name=phishing)

    assert response.status_code == 200
    assert Subscription.objects.get().name == ""
    [sent] = mailoutbox
    parsed = email.message_from_bytes(sent.message().as_bytes(), policy=policy.default)
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    for part in (parsed["Subject"], text, html):
        assert "locked" not in part and "evil.example" not in part
    assert text.startswith("Hello,\n") and "Hello, please confirm" in html


def test_names_strangers_typed_before_are_forgotten_and_a_pm_s_are_kept(product):
    link = f.ShareLinkFactory(product=product)
    typed = Subscription.objects.create(
        product=product, share_link=link, email="a@example.org", name="Your account is locked"
    )
    Subscription.objects.filter(pk=typed.pk).update(
        confirmed_at=typed.created_at + datetime.timedelta(minutes=5)
    )
    pending = Subscription.objects.create(
        product=product, share_link=link, email="b@example.org", name="Click here"
    )
    added = subscription_add(product=product, share_link=link, email="c@example.org", name="Ann")
    internal = subscription_add(product=product, email="d@example.org", name="Bo")

    forget_names.forget_signup_names(django_apps, None)

    names = dict(Subscription.objects.values_list("pk", "name"))
    assert [names[s.pk] for s in (typed, pending, added, internal)] == ["", "", "Ann", "Bo"]


def test_the_external_sign_up_form_asks_only_for_the_address_and_how_often(client, product):
    link = f.ShareLinkFactory(product=product)

    page = client.get(_page(link.token)).content.decode()

    assert 'name="email"' in page and 'name="frequency"' in page
    assert 'name="name"' not in page


# --- 16.14 Embed origins -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origins", "message"),
    [
        ("http://intranet.example.com", "Line 1: “http://intranet.example.com” is not https"),
        ("https://*.com", "Line 1: “https://*.com” covers sites of many owners"),
        ("https://ok.example.com\nhttps://*.co.uk", "Line 2: “https://*.co.uk” covers sites"),
        ("https://*.github.io", "Line 1: “https://*.github.io” covers sites of many owners"),
        ("*", "Line 1: “*” is not an origin such as https://intranet.example.com"),
        ("https://*", "Line 1: “https://*” is not an origin"),
        ("https://a.example.com/embed", "Line 1: “https://a.example.com/embed” is not an origin"),
        ("https://me@a.example.com", "Line 1: “https://me@a.example.com” is not an origin"),
        ("https://*.10.0.0.1", "Line 1: “https://*.10.0.0.1” puts a wildcard on an IP address"),
        ("https://a.example.com:70000", "Line 1: “https://a.example.com:70000” has a port"),
        ("https://*.*.example.com", "Line 1: “https://*.*.example.com” is not an origin"),
    ],
)
def test_origins_that_are_not_exact_https_or_one_owners_subdomains_are_refused(
    product, origins, message
):
    with pytest.raises(ValidationError) as refused:
        sharing.share_link_create(product=product, label="Intranet", embed_origins=origins)

    [error] = refused.value.message_dict["allowed_embed_origins"]
    assert error.startswith(message)
    assert not ShareLink.objects.exists()


def test_exact_https_origins_and_a_registered_domains_subdomains_are_accepted(product):
    link = sharing.share_link_create(
        product=product,
        label="Intranet",
        embed_origins="https://Intranet.Example.com/\nhttps://*.example.com\n"
        "https://*.corp.example.co.uk:8443\nhttps://10.0.0.7:8443\nhttps://wiki.example.org",
    )

    assert link.embed_origins == [
        "https://intranet.example.com",
        "https://*.example.com",
        "https://*.corp.example.co.uk:8443",
        "https://10.0.0.7:8443",
        "https://wiki.example.org",
    ]


def test_the_share_form_shows_which_line_is_refused_and_keeps_the_input(editor_client, product):
    response = editor_client.post(
        reverse("sharing:create", kwargs={"slug": product.slug}),
        {
            "label": "Intranet",
            "audience": "customers",
            "allowed_embed_origins": "https://wiki.example.org\nhttps://*.com",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["allowed_embed_origins"] == [
        "Line 2: “https://*.com” covers sites of many owners: a wildcard needs one registered "
        "domain, such as https://*.example.com."
    ]
    assert "https://wiki.example.org\nhttps://*.com</textarea>" in response.content.decode()
    assert not ShareLink.objects.exists()


def test_origins_saved_under_the_old_rule_are_not_sent_to_browsers(client, product):
    link = f.ShareLinkFactory(product=product)
    ShareLink.objects.filter(pk=link.pk).update(
        allowed_embed_origins="http://intranet.example.com\nhttps://*.com\nhttps://ok.example.com"
    )
    only_bad = f.ShareLinkFactory(product=product, allowed_embed_origins="https://*.co.uk")

    response = client.get(_page(link.token))
    refused = client.get(_page(only_bad.token))

    assert response["Content-Security-Policy"].endswith("frame-ancestors https://ok.example.com")
    assert "X-Frame-Options" not in response
    assert refused["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    assert refused["X-Frame-Options"] == "DENY"


def test_the_admin_cannot_set_embed_origins(product):
    # Share links are read-only in the admin (only revoked there): no road around the rule.
    link = f.ShareLinkFactory(product=product, label="Intranet")
    admin = Client()
    admin.force_login(User.objects.create_superuser(email="root@example.com", password="x-Adm1n!"))

    response = admin.post(
        reverse("admin:roadmap_sharelink_change", args=[link.pk]),
        {
            "product": product.pk,
            "label": "Intranet",
            "audience": "customers",
            "allowed_embed_origins": "https://*.com",
        },
    )

    assert response.status_code == 403
    assert ShareLink.objects.get(pk=link.pk).allowed_embed_origins == ""
