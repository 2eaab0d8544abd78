"""The portal's services: a vote or request counts once its address is confirmed, becomes an
insight of its customer, and its requesters hear once when the feature ships."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from roadmap.models import (
    Contact,
    Customer,
    FeatureRequest,
    Insight,
    InsightSource,
    RequestStatus,
    ShipNotice,
    ShipNoticeStatus,
    Vote,
)
from roadmap.planning.services.features import feature_update
from roadmap.portal import services
from roadmap.sharing.external import item_anchor
from tests.factories import FeatureFactory, RoadmapItemFactory, ShareLinkFactory


@pytest.fixture
def link(product):
    return ShareLinkFactory(product=product, allow_feedback=True)


@pytest.fixture
def item(product):
    return RoadmapItemFactory(
        product=product,
        feature=FeatureFactory(product=product, title="Internal name"),
        visibility="external",
        external_title="Offline mode",
    )


def _confirm_last_mail(django_capture_on_commit_callbacks=None) -> Contact:
    token = mail.outbox[-1].body.split("/portal/confirm/")[1].split("/")[0]
    return services.contact_confirm(token=token)


def test_a_vote_counts_only_once_its_address_is_confirmed(
    link, item, django_capture_on_commit_callbacks
):
    # Given a visitor voting with a note
    with django_capture_on_commit_callbacks(execute=True):
        cast = services.vote_cast(
            share_link=link,
            anchor=item_anchor(item.pk),
            note="SECRET-NOTE we need this",
            email="Ana@Acme.example.org",
            client="203.0.113.9",
        )
    # Then it is pending, and the email names the item's public title but nothing typed
    assert cast.confirmed is False and cast.vote.confirmed_at is None
    assert Insight.objects.count() == 0
    (message,) = mail.outbox
    assert message.to == ["ana@acme.example.org"]
    assert "Offline mode" in message.subject + message.body
    assert "SECRET-NOTE" not in message.subject + message.body + str(message.alternatives)
    # When the address is confirmed
    with django_capture_on_commit_callbacks(execute=True):
        contact = _confirm_last_mail()
    # Then the vote counts, as an insight of the company found by domain, on the feature
    vote = Vote.objects.get()
    assert vote.confirmed_at is not None
    assert contact.customer.name == "acme.example.org"
    insight = vote.insight
    assert insight.source == InsightSource.PORTAL
    assert insight.company == contact.customer
    assert insight.text == "SECRET-NOTE we need this"
    assert list(insight.features.all()) == [item.feature]
    # And confirming again changes nothing
    assert services.contact_confirm(token=contact.confirmation_token) == contact
    assert Insight.objects.count() == 1


def test_a_remembered_contact_votes_at_once_and_can_take_it_back(
    link, item, django_capture_on_commit_callbacks
):
    # Given a confirmed contact at a personal mail domain
    contact = Contact.objects.create(product=link.product, email="bo@gmail.com")
    services.contact_confirm(token=contact.confirmation_token)
    contact.refresh_from_db()
    # When they vote as the browser remembers them
    cast = services.vote_cast(share_link=link, anchor=item_anchor(item.pk), contact=contact)
    # Then it counts without an email, under their own address (no company)
    assert cast.confirmed is True and mail.outbox == []
    assert cast.vote.insight.customer == "bo@gmail.com" and cast.vote.insight.company is None
    assert Customer.objects.count() == 0
    # When they change their mind
    assert services.vote_withdraw(share_link=link, anchor=item_anchor(item.pk), contact=contact)
    # Then the vote and its insight are gone
    assert Vote.objects.count() == 0 and Insight.objects.count() == 0


def test_a_link_without_feedback_takes_nothing(product, item):
    closed = ShareLinkFactory(product=product, allow_feedback=False)
    with pytest.raises(services.FeedbackClosed):
        services.vote_cast(share_link=closed, anchor=item_anchor(item.pk), email="a@b.org")
    with pytest.raises(services.FeedbackClosed):
        services.request_submit(product=product, share_link=closed, title="X", email="a@b.org")
    assert Vote.objects.count() == FeatureRequest.objects.count() == Contact.objects.count() == 0


def test_an_internal_item_cannot_be_voted_for(link, product):
    internal = RoadmapItemFactory(product=product, visibility="internal")
    with pytest.raises(ValidationError) as error:
        services.vote_cast(share_link=link, anchor=item_anchor(internal.pk), email="a@b.org")
    assert error.value.message_dict == {"item": ["This item is not on the roadmap."]}


def test_mail_is_limited_per_mailbox(link, item, settings):
    for _ in range(services.FEEDBACK_PER_EMAIL):
        services.vote_cast(
            share_link=link, anchor=item_anchor(item.pk), email="victim+x@corp.example.net"
        )
    with pytest.raises(services.FeedbackLimited):
        services.vote_cast(
            share_link=link, anchor=item_anchor(item.pk), email="victim+y@corp.example.net"
        )


def _requested(link, title, email):
    cast = services.request_submit(
        product=link.product, share_link=link, title=title, importance=3, email=email
    )
    contact = Contact.objects.get(email=email)
    services.contact_confirm(token=contact.confirmation_token)
    return cast.request


def test_merging_moves_requesters_once_and_linking_carries_their_insights(link, product):
    # Given two requests for the same thing, one person behind both, another behind one
    first = _requested(link, "Dark mode", "ana@acme.example.org")
    second = _requested(link, "Night theme", "ana@acme.example.org")
    services.contact_confirm(
        token=services.request_submit(
            product=product, share_link=link, title="x", email="li@globex.example.org"
        )
        .request.requesters.get()
        .contact.confirmation_token
    )
    third = FeatureRequest.objects.get(title="x")
    services.request_merge(request=third, into=second)
    assert Insight.objects.count() == 3
    # When the second is merged into the first
    survivor = services.request_merge(request=second, into=first)
    # Then the survivor has each person once; the duplicate's own insight is gone
    assert survivor == first
    assert sorted(first.requesters.values_list("contact__email", flat=True)) == [
        "ana@acme.example.org",
        "li@globex.example.org",
    ]
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.status, second.merged_into) == (RequestStatus.MERGED, first)
    assert third.merged_into == first
    assert Insight.objects.count() == 2
    # When the survivor is linked to a feature
    feature = FeatureFactory(product=product)
    services.request_link(request=first, feature=feature)
    # Then both requesters' insights support it
    assert set(feature.insights.values_list("company__name", flat=True)) == {
        "acme.example.org",
        "globex.example.org",
    }
    # And a merged request takes no further triage
    with pytest.raises(ValidationError):
        services.request_decline(request=second, reason="no")


def test_declining_needs_a_reason_and_spam_is_no_evidence(link):
    request = _requested(link, "Free lunch", "ana@acme.example.org")
    with pytest.raises(ValidationError) as error:
        services.request_decline(request=request, reason="  ")
    assert "public_reason" in error.value.message_dict
    services.request_mark_spam(request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.SPAM and Insight.objects.count() == 0
    services.request_reopen(request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.NEW


def test_shipping_tells_each_requester_once(link, item, editor, django_capture_on_commit_callbacks):
    # Given a voter and a requester of the item's feature, both confirmed
    contact = Contact.objects.create(product=link.product, email="ana@acme.example.org")
    services.contact_confirm(token=contact.confirmation_token)
    services.vote_cast(share_link=link, anchor=item_anchor(item.pk), contact=contact)
    request = _requested(link, "Offline please", "li@globex.example.org")
    services.request_link(request=request, feature=item.feature)
    mail.outbox.clear()
    # When the feature ships, twice over (shipped, reopened, shipped again)
    feature = item.feature
    with django_capture_on_commit_callbacks(execute=True):
        feature_update(feature=feature, data={"status": "shipped"}, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        feature_update(feature=feature, data={"status": "in_progress"}, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        feature_update(feature=feature, data={"status": "shipped"}, actor=editor)
    # Then each requester got one email, built from the public title, with one-click unsubscribe
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ana@acme.example.org",
        "li@globex.example.org",
    ]
    assert all("Offline mode" in m.subject and "Internal name" not in m.body for m in mail.outbox)
    assert all(m.extra_headers["List-Unsubscribe-Post"] for m in mail.outbox)
    assert set(ShipNotice.objects.values_list("status", flat=True)) == {ShipNoticeStatus.SENT}
    # And an unsubscribed contact is not told of the next one
    unsubscribe = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    services.contact_unsubscribe(token=unsubscribe.rstrip("/").rsplit("/", 1)[1])
    assert Contact.objects.filter(notify=False).count() == 1
