"""Share links: the services, access to the public URL (404s, passwords, rate limit, view counter)
and the PM pages (list, create, revoke, preview by role)."""

import base64
import datetime

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from roadmap.models import ShareLink
from roadmap.sharing.services import sharing
from tests import factories as f

pytestmark = pytest.mark.urls("tests.roadmap.urls_with_sharing")


def _page(link_or_token):
    token = getattr(link_or_token, "token", link_or_token)
    return reverse("external:roadmap", kwargs={"token": token})


def _json(link):
    return reverse("external:json", kwargs={"token": link.token})


def _feed(link):
    return reverse("external:feed", kwargs={"token": link.token})


@pytest.fixture
def shown_item(product):
    return f.RoadmapItemFactory(
        product=product, visibility="external", external_title="Exports", horizon="now"
    )


# --- Services ------------------------------------------------------------------------------------


def test_create_makes_an_unguessable_token_and_hashes_the_password(product, editor):
    link = sharing.share_link_create(
        product=product,
        label="  Acme   QBR ",
        audience="investors",
        password="open sesame",
        embed_origins="https://Intranet.Example.com/\n\nhttps://intranet.example.com",
        created_by=editor,
    )

    link.refresh_from_db()
    assert link.label == "Acme QBR"
    assert link.audience == "investors"
    assert len(link.token) == 43  # 32 random bytes, URL-safe base64
    assert link.password_hash != "open sesame" and "open sesame" not in link.password_hash
    assert check_password("open sesame", link.password_hash)
    assert link.embed_origins == ["https://intranet.example.com"]
    assert link.created_by == editor
    assert link.view_count == 0 and link.revoked_at is None


def test_tokens_differ_between_links(product):
    tokens = {sharing.share_link_create(product=product, label=f"L{i}").token for i in range(20)}

    assert len(tokens) == 20


@pytest.mark.parametrize(
    "origin",
    [
        "https://a.example.com; script-src *",
        "https://a.example.com/path",
        "javascript:alert(1)",
        "*",
        "https://a.example.com 'unsafe-inline'",
        "ftp://a.example.com",
    ],
)
def test_create_refuses_anything_but_an_origin_and_saves_nothing(product, origin):
    with pytest.raises(ValidationError) as exc:
        sharing.share_link_create(product=product, label="Intranet", embed_origins=origin)

    assert "allowed_embed_origins" in exc.value.message_dict
    assert not ShareLink.objects.exists()


def test_create_refuses_a_past_expiry_a_short_password_and_an_unknown_audience(product):
    with pytest.raises(ValidationError) as exc:
        sharing.share_link_create(
            product=product,
            label="",
            audience="competitors",
            expires_at=timezone.now() - datetime.timedelta(minutes=1),
            password="abc",
        )

    assert set(exc.value.message_dict) == {"expires_at", "password", "label", "audience"}
    assert not ShareLink.objects.exists()


def test_revoke_is_immediate_and_keeps_the_first_time(product):
    link = f.ShareLinkFactory(product=product)

    sharing.share_link_revoke(share_link=link)
    first = link.revoked_at
    sharing.share_link_revoke(share_link=link)

    assert first is not None
    assert ShareLink.objects.get(pk=link.pk).revoked_at == first
    assert not ShareLink.objects.usable().filter(pk=link.pk).exists()


def test_password_check_limits_wrong_answers_per_link_and_client(product):
    link = sharing.share_link_create(product=product, label="L", password="open sesame")
    other = sharing.share_link_create(product=product, label="M", password="open sesame")

    results = [
        sharing.share_link_check_password(share_link=link, password="guess", client="1.2.3.4")
        for _ in range(5)
    ]

    assert results == [sharing.PasswordCheck.WRONG] * 5
    limited = sharing.share_link_check_password(
        share_link=link, password="open sesame", client="1.2.3.4"
    )
    assert limited is sharing.PasswordCheck.LIMITED
    assert (
        sharing.share_link_check_password(share_link=link, password="open sesame", client="5.6.7.8")
        is sharing.PasswordCheck.OK
    )
    assert (
        sharing.share_link_check_password(
            share_link=other, password="open sesame", client="1.2.3.4"
        )
        is sharing.PasswordCheck.OK
    )


# --- The public URL: unusable tokens -------------------------------------------------------------


def test_revoked_expired_and_unknown_tokens_get_the_same_404(client, product, shown_item):
    revoked = f.ShareLinkFactory(product=product, revoked_at=timezone.now())
    expired = f.ShareLinkFactory(
        product=product, expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    unknown = "x" * 43

    responses = [client.get(_page(t)) for t in (revoked, expired, unknown, "short")]
    machine = [client.get(url) for link in (revoked, expired) for url in (_json(link), _feed(link))]

    assert {r.status_code for r in responses + machine} == {404}
    assert len({r.content for r in responses + machine}) == 1
    body = responses[0].content.decode()
    assert "This roadmap is not available" in body
    assert "Exports" not in body and product.name not in body
    assert responses[0]["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in body


def test_a_link_stops_working_the_moment_it_is_revoked(client, product, shown_item):
    link = f.ShareLinkFactory(product=product)
    assert client.get(_page(link)).status_code == 200

    sharing.share_link_revoke(share_link=link)

    assert client.get(_page(link)).status_code == 404
    assert client.get(_json(link)).status_code == 404


def test_a_link_works_until_it_expires(client, product, shown_item):
    link = f.ShareLinkFactory(
        product=product, expires_at=timezone.now() + datetime.timedelta(hours=1)
    )
    assert client.get(_page(link)).status_code == 200

    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())

    assert client.get(_page(link)).status_code == 404


# --- The public URL: passwords -------------------------------------------------------------------


@pytest.fixture
def locked(product, shown_item):
    return sharing.share_link_create(product=product, label="Board", password="open sesame")


def test_a_password_link_shows_only_the_form_until_the_password_is_given(client, locked):
    response = client.get(_page(locked))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="password"' in html and "csrfmiddlewaretoken" in html
    assert "Exports" not in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert ShareLink.objects.get(pk=locked.pk).view_count == 0


def test_a_wrong_password_is_refused_and_the_right_one_is_remembered(client, locked, product):
    wrong = client.post(_page(locked), {"password": "nope"})

    assert wrong.status_code == 400
    assert "That password is not right." in wrong.content.decode()
    assert "Exports" not in wrong.content.decode()

    right = client.post(_page(locked), {"password": "open sesame"})

    assert right.status_code == 302 and right["Location"] == _page(locked)
    assert "Exports" in client.get(_page(locked)).content.decode()
    assert client.get(_json(locked)).status_code == 200
    # Another locked link of the same product is not opened by it.
    other = sharing.share_link_create(product=product, label="Other", password="open sesame")
    assert "Exports" not in client.get(_page(other)).content.decode()


def test_a_new_session_needs_the_password_again(client, locked):
    client.post(_page(locked), {"password": "open sesame"})

    fresh = Client()

    assert "Exports" not in fresh.get(_page(locked)).content.decode()


def test_wrong_passwords_are_rate_limited_per_link_and_ip_with_429(client, locked):
    for _ in range(5):
        assert client.post(_page(locked), {"password": "guess"}).status_code == 400

    limited = client.post(_page(locked), {"password": "open sesame"})

    assert limited.status_code == 429
    assert "Too many wrong passwords" in limited.content.decode()
    assert "Exports" not in client.get(_page(locked)).content.decode()
    elsewhere = Client(REMOTE_ADDR="10.9.8.7")
    assert elsewhere.post(_page(locked), {"password": "open sesame"}).status_code == 302


def test_password_form_is_csrf_protected(locked):
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(_page(locked), {"password": "open sesame"}).status_code == 403


def _basic(password):
    return "Basic " + base64.b64encode(f"reader:{password}".encode()).decode()


def test_json_and_feed_of_a_password_link_ask_for_it_with_basic_auth(client, locked):
    for url in (_json(locked), _feed(locked)):
        denied = client.get(url)
        assert denied.status_code == 401
        assert denied["WWW-Authenticate"].startswith('Basic realm="Waymark roadmap"')
        assert "Exports" not in denied.content.decode()
        assert client.get(url, HTTP_AUTHORIZATION=_basic("nope")).status_code == 401
        assert client.get(url, HTTP_AUTHORIZATION=_basic("open sesame")).status_code == 200

    assert (
        "Exports"
        in client.get(_json(locked), HTTP_AUTHORIZATION=_basic("open sesame")).json()["groups"][0][
            "items"
        ][0]["title"]
    )


def test_json_and_feed_of_a_password_link_are_never_stored_nor_revalidated(client, locked):
    for url in (_json(locked), _feed(locked)):
        for method in (client.get, client.head):
            response = method(url, HTTP_AUTHORIZATION=_basic("open sesame"), HTTP_IF_NONE_MATCH="*")

            assert response.status_code == 200
            assert "no-store" in response["Cache-Control"]
            assert "ETag" not in response and "Last-Modified" not in response
        assert client.head(url).status_code == 401


def test_basic_auth_guesses_count_towards_the_rate_limit(client, locked):
    for _ in range(5):
        client.get(_json(locked), HTTP_AUTHORIZATION=_basic("guess"))

    assert client.get(_json(locked), HTTP_AUTHORIZATION=_basic("open sesame")).status_code == 429
    assert client.post(_page(locked), {"password": "open sesame"}).status_code == 429


# --- The public URL: views -----------------------------------------------------------------------


def test_each_page_view_is_counted_with_its_time(client, product, shown_item):
    link = f.ShareLinkFactory(product=product)
    before = timezone.now()

    for _ in range(3):
        client.get(_page(link))
    client.get(_page(link) + "?print=1")
    client.get(_json(link))
    client.get(_feed(link))

    link.refresh_from_db()
    assert link.view_count == 4
    assert link.last_viewed_at >= before


def test_the_counter_is_a_single_update_from_the_database_value(product):
    link = f.ShareLinkFactory(product=product)
    stale = ShareLink.objects.get(pk=link.pk)
    ShareLink.objects.filter(pk=link.pk).update(view_count=41)

    sharing.share_link_record_view(share_link=stale)

    assert ShareLink.objects.get(pk=link.pk).view_count == 42


# --- PM pages ------------------------------------------------------------------------------------


def _list(product):
    return reverse("sharing:list", kwargs={"slug": product.slug})


def _create(product):
    return reverse("sharing:create", kwargs={"slug": product.slug})


def _revoke(product, link):
    return reverse("sharing:revoke", kwargs={"slug": product.slug, "pk": link.pk})


def _preview(product, audience):
    return reverse("sharing:preview", kwargs={"slug": product.slug, "audience": audience})


def test_list_shows_each_links_label_audience_views_expiry_status_and_url(
    viewer_client, product, site_url
):
    active = f.ShareLinkFactory(product=product, label="Acme QBR", audience="customers")
    ShareLink.objects.filter(pk=active.pk).update(
        view_count=17, last_viewed_at=timezone.now() - datetime.timedelta(hours=2)
    )
    f.ShareLinkFactory(
        product=product, label="Old board deck", audience="investors", revoked_at=timezone.now()
    )
    f.ShareLinkFactory(
        product=product,
        label="Q3 offsite",
        audience="executives",
        expires_at=timezone.now() - datetime.timedelta(days=1),
    )
    f.ShareLinkFactory(label="Other product link")

    response = viewer_client.get(_list(product))

    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Acme QBR", "Old board deck", "Q3 offsite", "Customers", "Investors"):
        assert text in html
    assert "Other product link" not in html
    assert site_url + _page(active) in html
    assert ">17<" in html
    assert "Active" in html and "Revoked" in html and "Expired" in html
    assert [r["status"] for r in response.context["rows"]] == ["expired", "revoked", "active"]


def test_viewers_see_no_create_form_or_revoke_button(viewer_client, product):
    f.ShareLinkFactory(product=product)

    html = viewer_client.get(_list(product)).content.decode()

    assert _create(product) not in html
    assert "Revoke" not in html


def test_editor_creates_a_link_and_sees_its_full_url(editor_client, editor, product, site_url):
    response = editor_client.post(
        _create(product),
        {
            "label": "Acme QBR",
            "audience": "investors",
            "expires_on": "2099-12-31",
            "password": "open sesame",
            "allowed_embed_origins": "https://intranet.example.com",
        },
        follow=True,
    )

    link = ShareLink.objects.get()
    assert response.redirect_chain == [(_list(product), 302)]
    assert link.product == product and link.audience == "investors"
    assert link.created_by == editor
    assert link.expires_at == datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    assert check_password("open sesame", link.password_hash)
    assert link.embed_origins == ["https://intranet.example.com"]
    assert f"{site_url}/r/{link.token}/" in response.content.decode()


def test_invalid_create_shows_errors_next_to_fields_and_keeps_input(editor_client, product):
    response = editor_client.post(
        _create(product),
        {
            "label": "Intranet",
            "audience": "customers",
            "expires_on": "2001-01-01",
            "allowed_embed_origins": "https://x.example.com; script-src *",
        },
    )

    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["expires_on"] == ["The expiry must be in the future."]
    assert "allowed_embed_origins" in form.errors
    assert 'value="Intranet"' in response.content.decode()
    assert not ShareLink.objects.exists()


def test_viewer_cannot_create_or_revoke(viewer_client, product):
    link = f.ShareLinkFactory(product=product)

    created = viewer_client.post(_create(product), {"label": "X", "audience": "customers"})
    revoked = viewer_client.post(_revoke(product, link))

    assert created.status_code == 403 and revoked.status_code == 403
    assert ShareLink.objects.count() == 1
    assert ShareLink.objects.get().revoked_at is None


def test_admin_revokes_a_link(client, workspace, product):
    admin = f.MembershipFactory(workspace=workspace, role=Role.ADMIN).user
    client.force_login(admin)
    link = f.ShareLinkFactory(product=product, label="Acme QBR")

    response = client.post(_revoke(product, link), follow=True)

    assert response.redirect_chain == [(_list(product), 302)]
    assert ShareLink.objects.get(pk=link.pk).revoked_at is not None
    assert "is revoked" in response.content.decode()
    assert client.get(_page(link)).status_code == 404


def test_revoke_needs_post(editor_client, product):
    link = f.ShareLinkFactory(product=product)

    assert editor_client.get(_revoke(product, link)).status_code == 405
    assert ShareLink.objects.get().revoked_at is None


def test_a_link_of_another_product_cannot_be_revoked_through_this_one(editor_client, workspace):
    mine = f.ProductFactory(workspace=workspace)
    theirs = f.ProductFactory(workspace=workspace)
    link = f.ShareLinkFactory(product=theirs)

    assert editor_client.post(_revoke(mine, link)).status_code == 404
    assert ShareLink.objects.get().revoked_at is None


@pytest.mark.parametrize("page", ["list", "preview", "create", "revoke"])
def test_members_of_another_workspace_get_404(outsider_client, product, page):
    link = f.ShareLinkFactory(product=product, label="Acme QBR")
    urls = {
        "list": ("get", _list(product)),
        "preview": ("get", _preview(product, "customers")),
        "create": ("post", _create(product)),
        "revoke": ("post", _revoke(product, link)),
    }
    method, url = urls[page]

    response = getattr(outsider_client, method)(url, {"label": "X", "audience": "customers"})

    assert response.status_code == 404
    assert "Acme QBR" not in response.content.decode()
    assert ShareLink.objects.count() == 1 and ShareLink.objects.get().revoked_at is None


def test_anonymous_visitors_are_sent_to_log_in(client, product):
    for url in (_list(product), _preview(product, "customers")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EDITOR, Role.VIEWER])
@pytest.mark.parametrize("audience", ["customers", "investors", "executives"])
def test_every_member_previews_every_audience(client, workspace, product, role, audience):
    client.force_login(f.MembershipFactory(workspace=workspace, role=role).user)
    f.RoadmapItemFactory(product=product, visibility="external", external_title="Exports")
    f.RoadmapItemFactory(product=product, visibility="internal", feature__title="Hidden plan")

    response = client.get(_preview(product, audience))

    assert response.status_code == 200
    html = response.content.decode()
    assert response.templates[0].name == "external/roadmap.html"
    assert "Preview" in html and "Nothing here is shared." in html
    assert f'aria-current="page">{audience.capitalize()}<' in html
    assert "Exports" in html and "Hidden plan" not in html
    assert response.context["roadmap"]["audience"]["key"] == audience


def test_preview_of_an_unknown_audience_is_404(editor_client, product):
    assert editor_client.get(_preview(product, "competitors")).status_code == 404


def test_preview_counts_no_view(editor_client, product):
    link = f.ShareLinkFactory(product=product)

    editor_client.get(_preview(product, "customers"))

    assert ShareLink.objects.get(pk=link.pk).view_count == 0


def test_list_page_runs_a_constant_number_of_queries(
    editor_client, product, django_assert_max_num_queries
):
    f.ShareLinkFactory(product=product)
    with django_assert_max_num_queries(12) as few:
        editor_client.get(_list(product))
    for _ in range(25):
        f.ShareLinkFactory(product=product, last_viewed_at=timezone.now())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = editor_client.get(_list(product))
    assert len(response.context["rows"]) == 26
