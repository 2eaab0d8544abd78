"""What customers read of a roadmap item (its customer-facing title and description), edited
from a board card and from the feature page, through the HTTP client."""

import json

import pytest
from django.urls import reverse

from roadmap.models import ChangeEvent, RoadmapItem
from tests import factories as f

HTMX = {"HTTP_HX_REQUEST": "true"}


def _text_url(item) -> str:
    return reverse("roadmap:board_item_text", kwargs={"slug": item.product.slug, "pk": item.pk})


def _html(response, status: int = 200) -> str:
    assert response.status_code == status, response.content.decode()[:500]
    return response.content.decode()


def _card(html: str, item) -> str:
    """The HTML of one card of the board."""
    start = html.index(f'id="item-{item.pk}"')
    return html[start : html.index("</li>", start)]


def _stored(item) -> tuple[str, str]:
    item.refresh_from_db()
    return (item.external_title, item.external_description)


@pytest.fixture
def items(product):
    """Single sign-on (external, no customer-facing text yet) and a theme, Faster onboarding."""
    sso = f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(product=product, title="Single sign-on", status="planned"),
        horizon="now",
        visibility="external",
    )
    theme = f.RoadmapItemFactory(
        product=product, feature=None, title="Faster onboarding", horizon="later"
    )
    return {"sso": sso, "theme": theme}


# --- On the board ---------------------------------------------------------------------------------


def test_a_cards_customer_text_comes_when_its_menu_opens(editor_client, items):
    item = items["sso"]
    url = _text_url(item)

    board = _html(editor_client.get(reverse("roadmap:board", kwargs={"slug": item.product.slug})))
    fragment = _html(editor_client.get(url, **HTMX))
    page = _html(editor_client.get(url))

    card = _card(board, item)
    # the link is what opening the card's menu loads in its place (waymark.js), or follows
    assert '<details class="plan-card__text" data-load><summary>' in card
    assert f'</summary><a href="{url}">Edit it</a></details>' in card
    assert "item-text__form" not in board  # no card carries its form
    assert "<html" not in fragment
    assert f'data-hx-post="{url}" data-hx-target="closest .plan-card"' in fragment
    assert 'name="origin" value="board"' in fragment
    assert f'id="text-{item.pk}-external_title"' in fragment
    assert 'maxlength="200"' in fragment
    # Without JavaScript: a page of its own, with the product's tabs and a plain form.
    assert "<html" in page
    assert f'<form class="item-text__form" method="post" action="{url}" novalidate' in page
    assert 'aria-current="page">Board<' in page


def test_saving_from_a_card_through_htmx_returns_the_card(editor_client, editor, items):
    item = items["sso"]

    response = editor_client.post(
        _text_url(item),
        {
            "origin": "board",
            "external_title": "  Log in with your company account ",
            "external_description": "One login\r\nfor every tool.",
        },
        **HTMX,
    )

    html = _html(response)
    assert html.lstrip().startswith(f'<li class="plan-card" id="item-{item.pk}"')
    assert "Customers read “Log in with your company account”" in html
    assert '<details class="plan-card__text" open>' in html
    assert 'value="Log in with your company account"' in html
    assert "Saved." in html
    assert json.loads(response["HX-Trigger"])["planning:notice"]["text"] == (
        "Saved what customers read of “Single sign-on”: “Log in with your company account”."
    )
    assert _stored(item) == ("Log in with your company account", "One login\nfor every tool.")
    latest = item.history.order_by("-history_date", "-history_id").first()
    assert (latest.external_title, latest.history_user_id) == (
        "Log in with your company account",
        editor.pk,
    )


def test_saving_without_javascript_redirects_to_the_card(editor_client, items):
    item = items["theme"]

    response = editor_client.post(
        _text_url(item),
        {"origin": "board", "external_title": "Get started in minutes", "external_description": ""},
    )

    assert response.status_code == 302
    board = reverse("roadmap:board", kwargs={"slug": item.product.slug})
    assert response["Location"] == f"{board}#item-{item.pk}"
    assert _stored(item) == ("Get started in minutes", "")


def test_a_title_too_long_is_refused_next_to_its_field_and_kept(editor_client, items):
    item = items["sso"]
    item.external_title = "Company login"
    item.save()
    typed = "x" * 201

    response = editor_client.post(
        _text_url(item),
        {"origin": "board", "external_title": typed, "external_description": "Kept too"},
        **HTMX,
    )

    html = _html(response)  # 200: htmx swaps the card with the form open and its errors
    assert '<details class="plan-card__text" open>' in html
    error = html[html.index(f'id="text-{item.pk}-external_title_error"') :]
    assert "Ensure this value has at most 200 characters (it has 201)." in error[:300]
    assert f'value="{typed}"' in html
    assert "Kept too</textarea>" in html
    assert 'aria-invalid="true"' in html and "autofocus" in html
    assert "Saved." not in html
    # the card's summary still says what is stored
    assert "Customers read “Company login”" in html
    assert _stored(item) == ("Company login", "")
    assert "HX-Trigger" not in response


def test_a_refused_save_without_javascript_is_a_page_with_the_form_filled(editor_client, items):
    item = items["sso"]

    response = editor_client.post(
        _text_url(item),
        {"origin": "feature", "external_title": "y" * 300, "external_description": "Mine"},
    )

    html = _html(response, 400)
    assert "<html" in html
    assert "Ensure this value has at most 200 characters (it has 300)." in html
    assert f'value="{"y" * 300}"' in html and "Mine</textarea>" in html
    assert 'name="origin" value="feature"' in html
    assert f'href="{item.feature.get_absolute_url()}">Back to the feature<' in html
    assert _stored(item) == ("", "")


def test_an_empty_title_falls_back_to_the_internal_one(editor_client, items):
    item = items["sso"]
    item.external_title = "Company login"
    item.save()

    html = _html(
        editor_client.post(
            _text_url(item),
            {"origin": "board", "external_title": "   ", "external_description": ""},
            **HTMX,
        )
    )

    assert _stored(item) == ("", "")
    item.refresh_from_db()
    assert item.public_title == "Single sign-on"
    assert "Customers read" not in html
    assert "Customer-facing text<span" in html


@pytest.mark.parametrize(
    ("external_title", "marked"),
    [("", False), ("Single sign-on", False), ("Company login", True)],
)
def test_a_card_says_when_customers_read_another_title(
    editor_client, items, external_title, marked
):
    item = items["sso"]
    item.external_title = external_title
    item.save()

    board = _html(editor_client.get(reverse("roadmap:board", kwargs={"slug": item.product.slug})))

    card = _card(board, item)
    assert ("Customers read “Company login”" in card) is marked
    assert ("Customer-facing text<span" in card) is not marked


def test_an_unknown_origin_is_the_board(editor_client, items):
    item = items["theme"]  # a theme has no feature page to go back to

    response = editor_client.post(
        _text_url(item), {"origin": "feature", "external_title": "T", "external_description": ""}
    )

    board = reverse("roadmap:board", kwargs={"slug": item.product.slug})
    assert response["Location"] == f"{board}#item-{item.pk}"


def test_saving_text_records_no_roadmap_event(editor_client, items):
    # Digests and feeds tell of moves, dates, releases and visibility, not of rewording (as for
    # the API and the admin): the history keeps it.
    item = items["sso"]

    editor_client.post(
        _text_url(item), {"origin": "board", "external_title": "Company login"}, **HTMX
    )

    assert _stored(item) == ("Company login", "")
    assert ChangeEvent.objects.filter(item=item).count() == 0


# --- On the feature page --------------------------------------------------------------------------


def test_the_feature_page_edits_the_text_in_place(editor_client, items):
    item = items["sso"]
    item.external_description = "Use your company's login."
    item.save()
    url = _text_url(item)

    html = _html(editor_client.get(item.feature.get_absolute_url()))

    placement = html[html.index('id="placement-heading"') :]
    assert f'data-hx-post="{url}" data-hx-target="closest .item-text"' in placement
    assert 'name="origin" value="feature"' in placement
    assert "Use your company&#x27;s login.</textarea>" in placement
    slug = item.product.slug
    for audience in ("customers", "investors", "executives"):
        preview = reverse("sharing:preview", kwargs={"slug": slug, "audience": audience})
        assert f'<a href="{preview}">{audience}</a>' in placement
    assert '<p id="item-text-status" class="visually-hidden" role="status"></p>' in html


def test_saving_from_the_feature_page_returns_the_form_and_says_so(editor_client, items):
    item = items["sso"]

    response = editor_client.post(
        _text_url(item),
        {"origin": "feature", "external_title": "Company login", "external_description": "Soon"},
        **HTMX,
    )

    html = _html(response)
    assert html.lstrip().startswith(f'<div class="item-text" id="item-text-{item.pk}">')
    assert "plan-card" not in html
    assert "Saved." in html
    assert (
        '<p id="item-text-status" class="visually-hidden" role="status" data-hx-swap-oob="true">'
        "Saved what customers read of “Single sign-on”: “Company login”.</p>"
    ) in html
    assert _stored(item) == ("Company login", "Soon")
    # the feature's history tells who changed it
    page = _html(editor_client.get(item.feature.get_absolute_url()))
    assert "external title" in page[page.index("history") :]


def test_saving_from_the_feature_page_without_javascript_goes_back_there(editor_client, items):
    item = items["sso"]

    response = editor_client.post(
        _text_url(item),
        {"origin": "feature", "external_title": "Company login", "external_description": ""},
    )

    assert response.status_code == 302
    assert response["Location"] == item.feature.get_absolute_url() + "#item-text"


def test_the_preview_shows_the_saved_title(editor_client, items):
    item = items["sso"]
    editor_client.post(
        _text_url(item), {"origin": "board", "external_title": "Company login"}, **HTMX
    )

    preview = _html(
        editor_client.get(
            reverse("sharing:preview", kwargs={"slug": item.product.slug, "audience": "customers"})
        )
    )

    assert "Company login" in preview
    assert "Single sign-on" not in preview


# --- Who may ------------------------------------------------------------------------------------


def test_viewers_read_the_text_but_get_no_form(viewer_client, items):
    item = items["sso"]
    item.external_title = "Company login"
    item.external_description = "One login."
    item.save()

    fragment = _html(viewer_client.get(_text_url(item), **HTMX))
    board = _html(viewer_client.get(reverse("roadmap:board", kwargs={"slug": item.product.slug})))
    feature = _html(viewer_client.get(item.feature.get_absolute_url()))

    assert "<form" not in fragment
    assert "<dd>Company login</dd>" in fragment
    assert "One login." in fragment
    assert "Preview as" in fragment
    assert "Customers read “Company login”" in _card(board, item)
    assert f'<a href="{_text_url(item)}">Read it</a>' in _card(board, item)
    placement = feature[feature.index('id="placement-heading"') :]
    assert "<dd>Company login</dd>" in placement
    assert "item-text__form" not in feature


def test_viewers_cannot_change_the_text(viewer_client, items):
    item = items["sso"]

    response = viewer_client.post(
        _text_url(item), {"origin": "board", "external_title": "Sneaky"}, **HTMX
    )

    assert response.status_code == 403
    assert _stored(item) == ("", "")


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsiders_find_no_such_item(outsider_client, items, method):
    item = items["sso"]

    response = getattr(outsider_client, method)(_text_url(item), {"external_title": "Sneaky"})

    assert response.status_code == 404
    assert _stored(item) == ("", "")


def test_an_item_of_another_product_is_not_found(editor_client, items, workspace):
    other = f.RoadmapItemFactory(product=f.ProductFactory(workspace=workspace))
    url = reverse(
        "roadmap:board_item_text", kwargs={"slug": items["sso"].product.slug, "pk": other.pk}
    )

    response = editor_client.post(url, {"external_title": "Moved?"})

    assert response.status_code == 404
    assert RoadmapItem.objects.get(pk=other.pk).external_title == ""


# --- The product's tabs on the feature and share pages ------------------------------------------


def test_the_feature_page_shows_the_products_tabs_with_prioritize_current(editor_client, items):
    html = _html(editor_client.get(items["sso"].feature.get_absolute_url()))

    tabs = html[html.index('<nav class="tabs"') : html.index("</nav>", html.index('class="tabs"'))]
    assert tabs.count('aria-current="page"') == 1
    assert 'aria-current="page">Prioritize<' in tabs
    assert ">Board<" in tabs and ">Share<" in tabs


def test_the_share_page_shows_the_products_tabs_with_share_current(viewer_client, items):
    product = items["sso"].product

    html = _html(viewer_client.get(reverse("sharing:list", kwargs={"slug": product.slug})))

    tabs = html[html.index('<nav class="tabs"') : html.index("</nav>", html.index('class="tabs"'))]
    assert tabs.count('aria-current="page"') == 1
    assert 'aria-current="page">Share<' in tabs
    assert ">Prioritize<" in tabs and ">Board<" in tabs


def test_a_share_links_url_is_in_a_readonly_input_with_a_copy_button(editor_client, items):
    product = items["sso"].product
    link = f.ShareLinkFactory(product=product, label="Acme QBR")

    html = _html(editor_client.get(reverse("sharing:list", kwargs={"slug": product.slug})))

    url_input = html[html.index(f'id="share-url-{link.pk}"') :]
    url_input = url_input[: url_input.index(">")]
    assert f"/r/{link.token}/" in url_input and "readonly" in url_input
    assert (
        f'<button class="button button--small" type="button" data-copy-from="share-url-{link.pk}"'
        ' data-copy-label="Acme QBR" hidden>'
    ) in html
    assert "js/copy-link.js" in html
    assert 'id="copy-status"' in html
