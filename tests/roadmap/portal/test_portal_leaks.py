"""Nothing of one stakeholder, nor anything internal, reaches another through the voice of the
customer: other people's addresses, votes and notes, their requests and the reasons they were
declined, customer names and revenue, experiments and internal titles never appear on any surface
a stakeholder reads (the feedback page, their own votes and requests, the embeddable form, the
JSON, the feed, the release notes) nor in the mails they get."""

import pytest
from django.core import mail
from django.utils import timezone

from roadmap.evidence.services import customer_save, experiment_save
from roadmap.models import Contact
from roadmap.planning.services.features import feature_update
from roadmap.portal import services
from roadmap.portal.views_external import cookie_name
from roadmap.sharing.external import item_anchor
from roadmap.strategy.services.launch import release_notes_save
from tests import factories as f

SECRETS = [
    "leakvoter@",
    "leakasker@",
    "leakcorp",
    "LEAKVOTENOTE",
    "LEAKREQUESTTITLE",
    "LEAKREQUESTDESC",
    "LEAKDECLINE",
    "LEAKCUSTOMER",
    "987654",
    "987,654",
    "LEAKEXPERIMENT",
    "LEAKFEATURE",
    "LEAKNOTES",
    "LEAKSEGMENT",
]


@pytest.fixture
def planted(product, django_capture_on_commit_callbacks):
    """Another stakeholder's vote, note and declined request, their company as a customer with
    its revenue, an experiment; and stakeholder B, remembered, who voted for the same item."""
    release = f.ReleaseFactory(product=product, name="Winter")
    feature = f.FeatureFactory(
        product=product, title="LEAKFEATURE offline", internal_notes="LEAKNOTES"
    )
    item = f.RoadmapItemFactory(
        product=product,
        feature=feature,
        release=release,
        visibility="external",
        external_title="Offline mode",
    )
    link = f.ShareLinkFactory(
        product=product, allow_feedback=True, allowed_embed_origins="https://app.example"
    )
    customer_save(
        product=product,
        data={"name": "LEAKCUSTOMER", "segment": "LEAKSEGMENT", "annual_revenue": 987654},
        domains=["leakcorp.example"],
    )
    services.vote_import(item=item, email="leakvoter@leakcorp.example", note="LEAKVOTENOTE")
    request = services.request_import(
        product=product,
        title="LEAKREQUESTTITLE",
        email="leakasker@leakcorp.example",
        description="LEAKREQUESTDESC",
    )
    services.request_decline(request=request, reason="LEAKDECLINE")
    experiment_save(product=product, data={"hypothesis": "LEAKEXPERIMENT"}, features=[feature])
    b = Contact.objects.create(
        product=product, email="b@other.example", confirmed_at=timezone.now()
    )
    services.vote_cast(share_link=link, anchor=item_anchor(item.pk), contact=b, note="Mine")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        feature_update(feature=feature, data={"status": "shipped"})
    release_notes_save(release=release, public_summary="Offline is here.", publish=True)
    return {"link": link, "b": b}


def _leaks(body: str) -> list[str]:
    return [s for s in SECRETS if s.lower() in body.lower()]


def test_no_other_stakeholders_or_internal_text_reaches_any_surface(client, planted):
    link, b = planted["link"], planted["b"]
    client.cookies[cookie_name(b.product_id)] = services.contact_remember_value(b)
    token = link.token
    surfaces = {
        "feedback page": f"/r/{token}/",
        "mine": f"/r/{token}/mine/",
        "json": f"/r/{token}.json",
        "feed": f"/r/{token}/feed.atom",
        "release notes": f"/r/{token}/releases/",
        "embed form": f"/embed/{token}/request/",
    }
    seen = {}
    for name, url in surfaces.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        seen[name] = response.content.decode()

    assert "Offline mode" in seen["feedback page"] and "Offline mode" in seen["mine"]
    assert "Offline is here." in seen["release notes"]
    assert {name: _leaks(body) for name, body in seen.items() if _leaks(body)} == {}


def test_the_mail_a_stakeholder_gets_carries_nothing_of_anyone_else(planted):
    to_b = [m for m in mail.outbox if m.to == ["b@other.example"]]

    assert len(to_b) == 1  # "it's live", once
    body = to_b[0].body + to_b[0].alternatives[0][0]
    assert "Offline mode" in body
    assert _leaks(body) == []
    for message in mail.outbox:
        text = message.body + message.alternatives[0][0]
        assert "LEAKVOTENOTE" not in text and "LEAKDECLINE" not in text
        assert "987654" not in text and "LEAKCUSTOMER" not in text
