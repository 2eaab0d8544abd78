"""Issue 16.11: names and titles are one line, and a name saved before that still sends email.

A product name with CR/LF made every email with it in the subject fail (Django refuses a line
break in a header), so subscribing and every digest of that product answered 500.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import invitation_create
from accounts.tokens import api_token_issue
from roadmap.models import Feature, Product, Subscription
from roadmap.planning.services.features import feature_update
from roadmap.sharing.services.digests import (
    digest_build,
    digest_message,
    subscription_add,
    subscription_request,
)
from tests import factories as f

MESSAGE = "Keep this to one line: no line breaks, tabs or other control characters."
BAD = ["Acme\r\nBcc: everyone@example.com", "Acme\nRoadmap", "Tab\there", "Bell\x07", "Next\u2028"]


def _instances(product, editor):
    feature = f.FeatureFactory(product=product)
    return [
        (product, "name"),
        (feature, "title"),
        (f.RoadmapItemFactory(product=product, feature=None, title="Theme"), "title"),
        (f.RoadmapItemFactory(product=product, feature=feature), "external_title"),
        (f.LaneFactory(product=product), "name"),
        (f.ShareLinkFactory(product=product), "label"),
        (Subscription.objects.create(product=product, email="a@example.com", user=editor), "name"),
        (product.workspace, "name"),
        (editor, "display_name"),
    ]


@pytest.mark.parametrize("value", BAD)
def test_names_and_titles_with_line_breaks_or_control_characters_are_refused(
    product, editor, value
):
    for instance, field in _instances(product, editor):
        setattr(instance, field, value)
        with pytest.raises(ValidationError) as refused:
            instance.full_clean(exclude=["password"])
        assert refused.value.message_dict == {field: [MESSAGE]}, type(instance).__name__


def test_ordinary_names_with_accents_dashes_and_emoji_are_kept(product, editor):
    for instance, field in _instances(product, editor):
        setattr(instance, field, "Zoë’s roadmap — Q3 🚀")
        instance.full_clean(exclude=["password"])


def test_the_api_refuses_a_product_name_with_a_line_break(editor, workspace, product):
    _, raw = api_token_issue(user=editor, workspace=workspace, name="test", scope="write")
    write_api = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = write_api.patch(
        f"/api/v1/products/{product.slug}/", {"name": "Acme\r\nBcc: x@example.com"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["name"] == [MESSAGE]
    assert Product.objects.get(pk=product.pk).name == product.name


def test_a_feature_title_with_a_line_break_is_a_field_error_in_the_service(product):
    feature = f.FeatureFactory(product=product, title="Alerts")

    with pytest.raises(ValidationError) as refused:
        feature_update(feature=feature, data={"title": "Alerts\nfor all"})

    assert refused.value.message_dict == {"title": [MESSAGE]}
    assert Feature.objects.get(pk=feature.pk).title == "Alerts"


def test_the_public_sign_up_form_refuses_a_name_with_a_line_break(workspace, admin_user):
    # given an invitation, when the invitee signs up with a two-line name
    _, token = invitation_create(
        workspace=workspace, email="ada@example.com", role="viewer", invited_by=admin_user
    )
    response = Client().post(
        f"/accounts/invite/{token}/",
        {
            "display_name": "Ada\r\nBcc: x@example.com",
            "password1": "x7!Kq9#mZ",
            "password2": "x7!Kq9#mZ",
        },
    )

    # then the form says why, and no account is made
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert not User.objects.filter(email="ada@example.com").exists()


def test_a_product_named_with_a_line_break_before_the_rule_still_sends_its_emails(
    product, mailoutbox, django_capture_on_commit_callbacks
):
    # given a product whose name got a line break before names were checked
    Product.objects.filter(pk=product.pk).update(name="Acme\r\nBcc: everyone@example.com")
    product.refresh_from_db()
    link = f.ShareLinkFactory(product=product, audience="customers")
    item = f.RoadmapItemFactory(product=product, visibility="external")

    # when an outsider signs up for its digests
    with django_capture_on_commit_callbacks(execute=True):
        subscription_request(share_link=link, email="cto@customer.example")

    # then the confirmation is sent, its subject on one line
    assert [m.subject for m in mailoutbox] == [
        "Confirm your subscription to the Acme Bcc: everyone@example.com roadmap"
    ]
    assert mailoutbox[0].to == ["cto@customer.example"]

    # and when an item ships, its digest is sent the same way
    subscription = subscription_add(product=product, share_link=link, email="cfo@customer.example")
    since = timezone.now()
    feature_update(feature=item.feature, data={"status": "shipped"})
    digest = digest_build(
        subscription=subscription, since=since, until=timezone.now() + timedelta(minutes=1)
    )
    digest_message(subscription=subscription, digest=digest).send()
    assert mailoutbox[1].subject == "Acme Bcc: everyone@example.com: 1 roadmap update"
    assert mailoutbox[1].to == ["cfo@customer.example"]
