"""Requests and votes through the API, under /api/v1/products/<slug>/: a support tool pushes a
request or a vote in for a customer's address (it counts at once, as an insight of the customer,
with its webhook), members read them, editors triage — with the pages' rules and messages."""

import pytest
from django.core import mail

from roadmap.models import (
    Contact,
    FeatureRequest,
    Insight,
    InsightSource,
    RequestSource,
    RequestStatus,
    Vote,
    WebhookDelivery,
    WebhookEndpoint,
)
from roadmap.portal import services
from tests import factories as f


def _requests_url(product, *rest):
    return "/".join([f"/api/v1/products/{product.slug}/requests", *map(str, rest), ""])


def _votes_url(product, *rest):
    return "/".join([f"/api/v1/products/{product.slug}/votes", *map(str, rest), ""])


@pytest.fixture
def hooks(product):
    return WebhookEndpoint.objects.create(
        workspace=product.workspace,
        url="https://hooks.example.com/in",
        events=["request.created", "vote.created"],
    )


@pytest.fixture
def item(product):
    return f.RoadmapItemFactory(
        product=product, feature=f.FeatureFactory(product=product), visibility="external"
    )


def _pushed(product, title="SSO", email="ana@acme.example.org", **kwargs):
    return services.request_import(product=product, title=title, email=email, **kwargs)


# --- Requests ------------------------------------------------------------------------------------


def test_a_support_tool_pushes_a_request_that_counts_at_once(write_api, product, hooks):
    # given a write token of an editor
    # when the support tool pushes a request for a customer's address
    response = write_api.post(
        _requests_url(product),
        {
            "title": "  Single   sign-on ",
            "description": "Okta, please.",
            "importance": 3,
            "email": "Ana@Acme.example.org",
        },
        format="json",
    )

    # then it is stored as an API request, counted at once, with no email to anyone
    assert response.status_code == 201, response.json()
    request = FeatureRequest.objects.get()
    body = response.json()
    assert body == {
        "id": request.pk,
        "title": "Single sign-on",
        "description": "Okta, please.",
        "importance": 3,
        "status": "new",
        "source": "api",
        "feature": None,
        "merged_into": None,
        "public_reason": "",
        "requesters": 1,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert mail.outbox == []
    contact = Contact.objects.get()
    assert (contact.email, contact.confirmed_at is not None) == ("ana@acme.example.org", True)
    assert contact.customer.name == "acme.example.org"
    # and it is evidence of the address's customer
    insight = Insight.objects.get()
    assert (insight.source, insight.company, insight.customer, insight.importance) == (
        InsightSource.PORTAL,
        contact.customer,
        "acme.example.org",
        3,
    )
    # and request.created went out with the documented payload
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "request.created"
    assert delivery.payload["data"] == {
        "product_id": product.pk,
        "request_id": request.pk,
        "title": "Single sign-on",
        "description": "Okta, please.",
        "importance": 3,
        "status": "new",
        "source": "api",
        "feature_id": None,
    }


def test_an_invalid_request_is_a_400_with_field_messages_and_nothing_is_stored(write_api, product):
    response = write_api.post(
        _requests_url(product),
        {"title": "", "importance": 9, "email": "not an address", "colour": "red"},
        format="json",
    )
    too_long = write_api.post(
        _requests_url(product),
        {"title": "x" * 161, "description": "y" * 4001, "email": "a@b.example"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"colour": ["Unknown field."]}
    again = write_api.post(
        _requests_url(product),
        {"title": "", "importance": 9, "email": "not an address"},
        format="json",
    )
    assert again.status_code == 400
    assert again.json() == {
        "title": ["This field may not be blank."],
        "importance": ['"9" is not a valid choice.'],
        "email": ["Enter a valid email address."],
    }
    assert too_long.status_code == 400
    assert too_long.json() == {
        "title": ["Ensure this field has no more than 160 characters."],
        "description": ["Ensure this field has no more than 4000 characters."],
    }
    assert (FeatureRequest.objects.count(), Contact.objects.count(), Insight.objects.count()) == (
        0,
        0,
        0,
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("read_api", 403), ("viewer_write_api", 403), ("outsider_api", 404), ("api", 401)],
)
def test_only_editors_with_a_write_token_push_requests(request, product, who, status):
    client = request.getfixturevalue(who)

    response = client.post(
        _requests_url(product), {"title": "SSO", "email": "ana@acme.example.org"}, format="json"
    )

    assert response.status_code == status
    assert FeatureRequest.objects.count() == 0


def test_members_list_requests_filtered_by_status_and_search_in_few_queries(
    read_api, product, django_assert_max_num_queries
):
    # given requests, one declined, one from another product
    sso = _pushed(product, "SSO with Okta")
    _pushed(product, "Dark mode", email="bo@beta.example.org")
    services.request_decline(request=_pushed(product, "Fax export"), reason="Not for us.")
    for n in range(20):
        _pushed(product, f"Idea {n}", email=f"p{n}@gamma.example.org")
    _pushed(f.ProductFactory(workspace=product.workspace), "SSO elsewhere")

    # when a read-only token lists them
    with django_assert_max_num_queries(5):
        everything = read_api.get(_requests_url(product))
    found = read_api.get(_requests_url(product), {"q": "okta", "status": "new"})
    declined = read_api.get(_requests_url(product), {"status": "declined"})
    one = read_api.get(_requests_url(product, sso.pk))

    # then
    assert everything.status_code == 200
    assert everything.json()["count"] == 23
    assert [r["title"] for r in found.json()["results"]] == ["SSO with Okta"]
    assert [(r["title"], r["public_reason"]) for r in declined.json()["results"]] == [
        ("Fax export", "Not for us.")
    ]
    assert (one.json()["id"], one.json()["requesters"]) == (sso.pk, 1)


def test_another_products_request_is_not_found_under_this_product(read_api, product):
    elsewhere = _pushed(f.ProductFactory(workspace=product.workspace), "SSO elsewhere")

    response = read_api.get(_requests_url(product, elsewhere.pk))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_editors_link_decline_merge_mark_spam_and_reopen_requests(write_api, product):
    # given two duplicate requests and a feature
    feature = f.FeatureFactory(product=product)
    first = _pushed(product, "SSO")
    second = _pushed(product, "Okta login", email="bo@beta.example.org")
    spam = _pushed(product, "Buy pills", email="x@spam.example.org")

    # when the editor links the first, merges the second into it, and marks spam
    linked = write_api.post(
        _requests_url(product, first.pk, "link"), {"feature": feature.pk}, format="json"
    )
    merged = write_api.post(
        _requests_url(product, second.pk, "merge"), {"merged_into": first.pk}, format="json"
    )
    spammed = write_api.post(_requests_url(product, spam.pk, "spam"), format="json")

    # then
    assert linked.status_code == 200, linked.json()
    assert (linked.json()["status"], linked.json()["feature"]) == ("linked", feature.pk)
    assert merged.status_code == 200, merged.json()
    assert (merged.json()["status"], merged.json()["merged_into"]) == ("merged", first.pk)
    assert write_api.get(_requests_url(product, first.pk)).json()["requesters"] == 2
    assert set(feature.insights.values_list("customer", flat=True)) == {
        "acme.example.org",
        "beta.example.org",
    }
    assert spammed.status_code == 200 and spammed.json()["status"] == "spam"
    assert not Insight.objects.filter(text__contains="Buy pills").exists()

    # and a spam request is reopened; a declined one says why
    reopened = write_api.post(_requests_url(product, spam.pk, "reopen"), format="json")
    declined = write_api.post(
        _requests_url(product, spam.pk, "decline"),
        {"public_reason": "Out of scope."},
        format="json",
    )
    assert reopened.json()["status"] == "new"
    assert (declined.json()["status"], declined.json()["public_reason"]) == (
        "declined",
        "Out of scope.",
    )


def test_triage_refusals_are_400s_naming_the_field_and_change_nothing(write_api, product):
    request = _pushed(product, "SSO")
    other_feature = f.FeatureFactory(product=f.ProductFactory(workspace=product.workspace))
    before = FeatureRequest.objects.values().get(pk=request.pk)

    blank = write_api.post(
        _requests_url(product, request.pk, "decline"), {"public_reason": "  "}, format="json"
    )
    elsewhere = write_api.post(
        _requests_url(product, request.pk, "link"), {"feature": other_feature.pk}, format="json"
    )
    itself = write_api.post(
        _requests_url(product, request.pk, "merge"), {"merged_into": request.pk}, format="json"
    )
    not_declined = write_api.post(_requests_url(product, request.pk, "reopen"), format="json")

    assert (blank.status_code, blank.json()) == (
        400,
        {"public_reason": ["Say why, in words the requesters will read."]},
    )
    assert (elsewhere.status_code, elsewhere.json()) == (
        400,
        {"feature": [f'Invalid pk "{other_feature.pk}" - object does not exist.']},
    )
    assert (itself.status_code, itself.json()) == (
        400,
        {"merged_into": ["A request cannot be merged into itself."]},
    )
    assert (not_declined.status_code, not_declined.json()) == (
        400,
        {"status": ["Only declined or spam requests can be reopened."]},
    )
    assert FeatureRequest.objects.values().get(pk=request.pk) == before


def test_viewers_and_read_tokens_cannot_triage(viewer_write_api, read_api, product):
    request = _pushed(product, "SSO")

    by_viewer = viewer_write_api.post(_requests_url(product, request.pk, "spam"), format="json")
    by_read = read_api.post(_requests_url(product, request.pk, "spam"), format="json")

    assert (by_viewer.status_code, by_read.status_code) == (403, 403)
    assert FeatureRequest.objects.get().status == RequestStatus.NEW


# --- Votes ---------------------------------------------------------------------------------------


def test_a_support_tool_votes_for_a_customer_and_it_counts_at_once(write_api, product, item, hooks):
    # when a vote is cast for a customer's address
    response = write_api.post(
        _votes_url(product),
        {"item": item.pk, "email": "ana@acme.example.org", "note": "Blocks our rollout"},
        format="json",
    )

    # then it is confirmed, evidence for the item's feature, and vote.created went out
    assert response.status_code == 201, response.json()
    vote = Vote.objects.get()
    assert response.json() == {
        "id": vote.pk,
        "item": item.pk,
        "feature": item.feature_id,
        "customer": "acme.example.org",
        "note": "Blocks our rollout",
        "confirmed_at": response.json()["confirmed_at"],
        "created_at": response.json()["created_at"],
    }
    assert vote.confirmed_at is not None and mail.outbox == []
    assert list(vote.insight.features.all()) == [item.feature]
    assert vote.insight.text == "Blocks our rollout"
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "vote.created"
    assert delivery.payload["data"] == {
        "product_id": product.pk,
        "roadmap_item_id": item.pk,
        "feature_id": item.feature_id,
        "vote_id": vote.pk,
        "customer": "acme.example.org",
    }

    # and voting again for the same address replaces the note, with no second webhook
    again = write_api.post(
        _votes_url(product),
        {"item": item.pk, "email": "ANA@acme.example.org", "note": "Urgent now"},
        format="json",
    )
    assert again.status_code == 200
    assert again.json()["id"] == vote.pk
    vote.refresh_from_db()
    assert (vote.note, vote.insight.text) == ("Urgent now", "Urgent now")
    assert (Vote.objects.count(), Insight.objects.count(), WebhookDelivery.objects.count()) == (
        1,
        1,
        1,
    )


def test_a_vote_for_another_products_item_or_a_bad_address_is_a_400(write_api, product, item):
    foreign = f.RoadmapItemFactory(product=f.ProductFactory(workspace=product.workspace))

    response = write_api.post(
        _votes_url(product),
        {"item": foreign.pk, "email": "nope", "note": "n" * 1001},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "item": [f'Invalid pk "{foreign.pk}" - object does not exist.'],
        "email": ["Enter a valid email address."],
        "note": ["Ensure this field has no more than 1000 characters."],
    }
    assert (Vote.objects.count(), Contact.objects.count()) == (0, 0)


def test_members_list_votes_with_their_customer_in_few_queries(
    read_api, product, item, django_assert_max_num_queries
):
    # given votes of several customers, one still unconfirmed (a visitor's)
    for n in range(15):
        services.vote_import(item=item, email=f"p@c{n}.example.org")
    link = f.ShareLinkFactory(product=product, allow_feedback=True)
    from roadmap.sharing.external import item_anchor

    services.vote_cast(share_link=link, anchor=item_anchor(item.pk), email="new@d.example.org")
    other_item = f.RoadmapItemFactory(product=product, feature=None, title="A theme")
    services.vote_import(item=other_item, email="solo@gmail.com", note="me too")

    # when members list them
    with django_assert_max_num_queries(5):
        everything = read_api.get(_votes_url(product), {"page_size": 50})
    confirmed = read_api.get(_votes_url(product), {"confirmed": "true", "item": item.pk})
    of_other = read_api.get(_votes_url(product), {"item": other_item.pk})

    # then
    assert everything.status_code == 200
    assert everything.json()["count"] == 17
    assert confirmed.json()["count"] == 15
    assert {v["customer"] for v in confirmed.json()["results"]} == {
        f"c{n}.example.org" for n in range(15)
    }
    (solo,) = of_other.json()["results"]
    assert (solo["customer"], solo["note"], solo["feature"]) == (None, "me too", None)


def test_deleting_a_vote_removes_its_insight(write_api, read_api, product, item):
    vote, _ = services.vote_import(item=item, email="ana@acme.example.org")

    refused = read_api.delete(_votes_url(product, vote.pk))
    response = write_api.delete(_votes_url(product, vote.pk))

    assert refused.status_code == 403
    assert response.status_code == 204
    assert (Vote.objects.count(), Insight.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("who", "status"),
    [("read_api", 403), ("viewer_write_api", 403), ("outsider_api", 404), ("api", 401)],
)
def test_only_editors_with_a_write_token_cast_votes(request, product, item, who, status):
    client = request.getfixturevalue(who)

    response = client.post(
        _votes_url(product), {"item": item.pk, "email": "ana@acme.example.org"}, format="json"
    )

    assert response.status_code == status
    assert Vote.objects.count() == 0


def test_requests_pushed_through_the_api_are_marked_as_such(product):
    request = _pushed(product, "SSO")

    assert request.source == RequestSource.API
    assert request.share_link is None
