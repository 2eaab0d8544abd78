"""The Django admin: every model is registered, every page loads for a superuser, searches find
rows, lists stay within a fixed number of queries, and admin edits keep scores honest."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalChanges

from accounts.models import ApiToken, Invitation, User, hash_token
from roadmap.models import (
    ChangeEvent,
    CsvUpload,
    DigestDelivery,
    Feature,
    FeatureRankSnapshot,
    Objective,
    Product,
    ScoringFormulaVersion,
    Subscription,
    TableLayout,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests import factories as f

REGISTRY = sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label)
MODEL_IDS = [model._meta.label for model, _ in REGISTRY]
# Written by services or the system (a secret shown once, a log): never added by hand.
NOT_ADDABLE = {
    "accounts.ApiToken",
    "accounts.Invitation",
    "roadmap.ChangeEvent",
    # Written with their customer, on its page (checked against the other customers' domains).
    "roadmap.CustomerDomain",
    "roadmap.CsvUpload",
    "roadmap.DigestDelivery",
    "roadmap.FeatureRankSnapshot",
    # Made on the share page only: a link made here could never be opened (its token is not kept).
    "roadmap.ShareLink",
    # The portal's rows come from stakeholders and the API (roadmap.portal.services).
    "roadmap.Contact",
    "roadmap.FeatureRequest",
    "roadmap.Requester",
    # Edited with their field on the settings page; set by editing the feature.
    "roadmap.CustomFieldChoice",
    "roadmap.FeatureFieldValue",
    # Rating rounds are the Rating tab's (roadmap.planning.services.rating).
    "roadmap.Rating",
    "roadmap.RatingRound",
    "roadmap.RatingRoundRater",
    # Saved with the product's formula (roadmap.planning.services.formula), scores recomputed.
    "roadmap.ScoringFormulaVersion",
    "roadmap.ShipNotice",
    "roadmap.Vote",
    # Made by editing features; deleted through tag_delete (an edit of each feature).
    "roadmap.Tag",
    "roadmap.WebhookDelivery",
}


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(email="root@example.com", password="s3cret-Admin!")


@pytest.fixture
def superuser_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def rows(superuser, product, editor):
    """One row of every registered model, all in ``product``'s workspace."""
    workspace = product.workspace
    feature = f.FeatureFactory(product=product, title="Needle feature", owner=editor)
    item = f.RoadmapItemFactory(product=product, feature=feature)
    share_link = f.ShareLinkFactory(product=product)
    subscription = Subscription.objects.create(product=product, email="fan@example.com")
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url="https://hooks.example.com/w", events=["feature.created"]
    )
    driver_score = f.FeatureDriverScoreFactory(feature=feature)
    choice = f.CustomFieldChoiceFactory(field__product=product)
    field_value = f.FeatureFieldValueFactory(
        feature=feature, field=choice.field, value=None, choice=choice
    )
    now = timezone.now()
    made = [
        superuser,
        workspace,
        editor.memberships.get(),
        Invitation.objects.create(
            workspace=workspace,
            email="new@example.com",
            token_hash=hash_token("invite"),
            invited_by=superuser,
            expires_at=now,
        ),
        ApiToken.objects.create(
            user=editor,
            workspace=workspace,
            name="Jira sync",
            prefix="abc123",
            token_hash=hash_token("token"),
        ),
        Group.objects.create(name="Support"),
        product,
        f.PersonaFactory(product=product),
        f.TagFactory(product=product),
        feature,
        driver_score,
        driver_score.driver,
        field_value.field,
        field_value.choice,
        field_value,
        FeatureRankSnapshot.objects.create(feature=feature, taken_on=now.date(), rank=1, score=2),
        f.InsightFactory(product=product),
        f.ObjectiveFactory(product=product),
        f.ReleaseFactory(product=product),
        f.LaneFactory(product=product),
        item,
        share_link,
        subscription,
        DigestDelivery.objects.create(
            subscription=subscription, period="2026-W48", events_through=now
        ),
        ChangeEvent.objects.create(
            product=product, item=item, feature=feature, kind="moved", occurred_at=now
        ),
        endpoint,
        WebhookDelivery.objects.create(endpoint=endpoint, event="feature.created", payload={}),
        f.PositioningAnswerFactory(positioning=f.PositioningFactory(product=product)),
        f.PositioningAnswerFactory._meta.model.objects.get().positioning,
        f.ComparisonFactory(competitor=f.CompetitorFactory(product=product), feature=feature),
        f.CompetitorFactory(product=product),
        f.MarketSizeFactory(product=product),
        f.RevenueModelFactory(product=product),
        f.PricePlanFactory(product=product),
        f.LaunchTemplateTaskFactory(workspace=workspace),
        f.LaunchTaskFactory(release=f.ReleaseFactory(product=product)),
        TableLayout.objects.create(user=editor, product=product, hidden_columns=["kano"]),
        ScoringFormulaVersion.objects.create(
            product=product, number=1, source="reach * 2", author=editor
        ),
        CsvUpload.objects.create(
            key="k" * 32, user=editor, product=product, filename="needle.csv", data=b"title\n"
        ),
        *_portal_rows(product, item, feature),
        *_customer_rows(product, feature),
        *_rating_rows(product, feature, editor),
    ]
    by_model = {type(obj): obj for obj in made}
    by_model[User] = superuser
    return by_model


def _portal_rows(product, item, feature):
    """A request, its requester and contact, a vote and an "it's live" notice (the portal)."""
    from roadmap.models import ShipNotice
    from roadmap.portal import services

    request = services.request_import(product=product, title="Needle request", email="a@x.test")
    requester = request.requesters.get()
    vote, _ = services.vote_import(item=item, email="a@x.test")
    notice = ShipNotice.objects.create(contact=requester.contact, feature=feature)
    return [request, requester, requester.contact, vote, notice]


def _customer_rows(product, feature):
    """A customer with an email domain, and an experiment testing ``feature``."""
    from roadmap.evidence import services

    customer = services.customer_save(
        product=product, data={"name": "Needle Corp"}, domains=["needle.example"]
    )
    experiment = services.experiment_save(
        product=product, data={"hypothesis": "Needle hypothesis"}, features=[feature]
    )
    return [customer, customer.domains.get(), experiment]


def _rating_rows(product, feature, editor):
    """A rating round with its rater's seat and one rating of ``feature``."""
    from roadmap.planning.services import rating

    made = rating.round_create(
        product=product, name="Needle round", features=[feature], raters=[editor]
    )
    rating.ratings_save(
        rating_round=made, rater=editor, values={f"v-{feature.pk}-reach": "10"}, submit=True
    )
    return [made, made.seats.get(), made.ratings.get()]


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_accounts_and_roadmap_model_is_registered():
    # Past versions (django-simple-history) are shown on their model's history page instead.
    models = {
        m._meta.label
        for name in ("accounts", "roadmap")
        for m in apps.get_app_config(name).get_models()
        if not issubclass(m, HistoricalChanges)
    }

    assert models - set(MODEL_IDS) == set()


def test_rows_fixture_covers_every_registered_model(rows):
    assert {m._meta.label for m in rows} == set(MODEL_IDS)


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=MODEL_IDS)
def test_superuser_loads_changelist_add_and_change_pages(
    superuser_client, rows, model, model_admin
):
    obj = rows[model]

    changelist = superuser_client.get(_url(model, "changelist"))
    change = superuser_client.get(_url(model, "change", obj.pk))
    add = superuser_client.get(_url(model, "add"))

    assert changelist.status_code == 200
    assert obj in changelist.context["cl"].result_list
    assert change.status_code == 200
    assert change.context["original"] == obj
    assert add.status_code == (403 if model._meta.label in NOT_ADDABLE else 200)


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=MODEL_IDS)
def test_every_changelist_has_search_that_runs(superuser_client, rows, model, model_admin):
    assert model_admin.search_fields

    response = superuser_client.get(_url(model, "changelist"), {"q": "needle"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "model",
    [ChangeEvent, DigestDelivery, FeatureRankSnapshot, WebhookDelivery],
    ids=lambda m: m.__name__,
)
def test_logs_are_view_only(superuser_client, rows, model):
    response = superuser_client.get(_url(model, "change", rows[model].pk))

    assert response.context["has_change_permission"] is False
    assert response.context["adminform"].form.fields == {}


def test_feature_search_finds_by_title_and_product_name(superuser_client, product):
    needle = f.FeatureFactory(product=product, title="Needle in a haystack")
    f.FeatureFactory(product=product, title="Hay")
    elsewhere = f.FeatureFactory(product=f.ProductFactory(name="Needlework"), title="Thread")

    by_title = superuser_client.get(_url(Feature, "changelist"), {"q": "needle in"})
    by_product = superuser_client.get(_url(Feature, "changelist"), {"q": "needlework"})

    assert list(by_title.context["cl"].result_list) == [needle]
    assert list(by_product.context["cl"].result_list) == [elsewhere]


def test_user_search_is_by_email(superuser_client, superuser):
    ada = f.UserFactory(email="ada@lovelace.example", display_name="Ada")
    f.UserFactory(email="bob@example.com", display_name="Bob")

    response = superuser_client.get(_url(User, "changelist"), {"q": "lovelace"})

    assert list(response.context["cl"].result_list) == [ada]


def test_feature_changelist_queries_do_not_grow_with_features(
    superuser_client, product, editor, django_assert_max_num_queries
):
    tags = [f.TagFactory(product=product) for _ in range(2)]
    for i in range(50):
        feature = f.FeatureFactory(product=product, owner=editor, score=float(i), rank=i + 1)
        feature.tags.set(tags)

    with django_assert_max_num_queries(7):
        response = superuser_client.get(_url(Feature, "changelist"))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50
    html = response.content.decode()
    assert editor.name in html
    assert product.name in html


def test_feature_change_page_shows_scores_read_only(superuser_client, product):
    feature = f.FeatureFactory(product=product, score=12.5, rank=3, version=4)

    response = superuser_client.get(_url(Feature, "change", feature.pk))

    form_fields = set(response.context["adminform"].form.fields)
    assert {"score", "score_breakdown", "scored_at", "rank", "version"} & form_fields == set()
    assert {"reach", "impact", "confidence", "effort", "title", "status"} <= form_fields
    html = response.content.decode()
    assert '<div class="readonly">12.5</div>' in html


def test_feature_autocomplete_answers_for_roadmap_items(superuser_client, product):
    needle = f.FeatureFactory(product=product, title="Needle feature")
    f.FeatureFactory(product=product, title="Other")

    response = superuser_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "roadmap",
            "model_name": "roadmapitem",
            "field_name": "feature",
            "term": "ne",
        },
    )

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(needle.pk), "text": "Needle feature"}]


def _post_data(response) -> dict:
    """The data a browser would post back unchanged from an admin change page."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is None:
                data[key] = ""
            elif value is True:
                data[key] = "on"
            elif value is not False:
                data[key] = str(value)
    return data


def test_feature_edit_in_admin_bumps_version_and_rescores_at_once(superuser_client, product):
    feature = f.FeatureFactory(product=product, effort=Decimal("2.00"))
    f.FeatureDriverScoreFactory(feature=feature, score=4)
    page = superuser_client.get(_url(Feature, "change", feature.pk))
    data = _post_data(page) | {"effort": "4"}

    response = superuser_client.post(_url(Feature, "change", feature.pk), data)

    assert response.status_code == 302
    feature.refresh_from_db()
    assert feature.effort == Decimal("4.00")
    assert feature.version == 2
    # RICE: 100 reach × 1 impact × 80% confidence / 4 effort, scored as the app's edit scores it.
    assert (feature.score, feature.rank) == (20.0, 1)


def test_feature_saved_unchanged_in_admin_keeps_its_version_and_scores(superuser_client, product):
    feature = f.FeatureFactory(product=product)
    page = superuser_client.get(_url(Feature, "change", feature.pk))

    response = superuser_client.post(_url(Feature, "change", feature.pk), _post_data(page))

    assert response.status_code == 302
    feature.refresh_from_db()
    product.refresh_from_db()
    assert feature.version == 1
    assert product.score_recompute_requested_at is None


def test_driver_score_edited_inline_rescores_the_feature(superuser_client, product):
    product.scoring_framework = "weighted"
    product.save()
    feature = f.FeatureFactory(product=product)
    score = f.FeatureDriverScoreFactory(feature=feature, score=4)
    page = superuser_client.get(_url(Feature, "change", feature.pk))

    response = superuser_client.post(
        _url(Feature, "change", feature.pk), _post_data(page) | {"driver_scores-0-score": "9"}
    )

    assert response.status_code == 302
    score.refresh_from_db()
    product.refresh_from_db()
    feature.refresh_from_db()
    assert score.score == 9
    assert feature.version == 2
    assert feature.score == 9.0  # one driver, weight 1: its score, set at once


def test_invalid_feature_input_is_rejected_by_admin_with_the_model_message(
    superuser_client, product
):
    feature = f.FeatureFactory(product=product, confidence=80)
    page = superuser_client.get(_url(Feature, "change", feature.pk))

    response = superuser_client.post(
        _url(Feature, "change", feature.pk), _post_data(page) | {"confidence": "101"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "confidence": ["Confidence is a percentage between 0 and 100."]
    }
    feature.refresh_from_db()
    assert feature.confidence == 80
    assert feature.version == 1


def test_objective_admin_shows_the_model_message(superuser_client, product):
    objective = f.ObjectiveFactory(product=product, baseline=Decimal("100"), target=Decimal("200"))
    page = superuser_client.get(_url(Objective, "change", objective.pk))

    response = superuser_client.post(
        _url(Objective, "change", objective.pk), _post_data(page) | {"target": "100"}
    )

    assert response.context["adminform"].form.errors == {
        "target": ["The target must differ from the baseline."]
    }
    objective.refresh_from_db()
    assert objective.target == Decimal("200")


def test_add_user_with_email_login_stores_it_lower_case(superuser_client):
    response = superuser_client.post(
        _url(User, "add"),
        {
            "email": "Grace@Example.COM",
            "display_name": "Grace",
            "usable_password": "true",
            "password1": "long-and-unusual-42",
            "password2": "long-and-unusual-42",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(display_name="Grace")
    assert user.email == "grace@example.com"
    assert user.check_password("long-and-unusual-42")
    assert user.is_staff is False


def test_add_user_rejects_an_email_taken_in_another_case(superuser_client):
    f.UserFactory(email="grace@example.com")

    response = superuser_client.post(
        _url(User, "add"),
        {
            "email": "GRACE@example.com",
            "usable_password": "true",
            "password1": "long-and-unusual-42",
            "password2": "long-and-unusual-42",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "email": ["User with this Email address already exists."]
    }
    assert User.objects.filter(email__iexact="grace@example.com").count() == 1


def test_change_user_keeps_own_email_and_rejects_anothers(superuser_client):
    grace = f.UserFactory(email="grace@example.com", display_name="Grace")
    f.UserFactory(email="ada@example.com")
    page = superuser_client.get(_url(User, "change", grace.pk))
    data = _post_data(page)

    renamed = superuser_client.post(
        _url(User, "change", grace.pk), data | {"email": "Grace@Example.com", "display_name": "G"}
    )
    taken = superuser_client.post(
        _url(User, "change", grace.pk), data | {"email": "ADA@example.com"}
    )

    assert renamed.status_code == 302
    assert taken.status_code == 200
    assert taken.context["adminform"].form.errors == {
        "email": ["User with this Email address already exists."]
    }
    grace.refresh_from_db()
    assert (grace.email, grace.display_name) == ("grace@example.com", "G")


def test_feature_history_shows_admin_edits_and_cannot_revert(superuser_client, superuser, product):
    feature = f.FeatureFactory(product=product, title="Old title")
    page = superuser_client.get(_url(Feature, "change", feature.pk))
    superuser_client.post(_url(Feature, "change", feature.pk), _post_data(page) | {"title": "New"})
    first, latest = feature.history.order_by("history_date")

    history = superuser_client.get(_url(Feature, "history", feature.pk))
    version = reverse("admin:roadmap_feature_simple_history", args=[feature.pk, first.history_id])
    revert = superuser_client.post(version, _post_data(superuser_client.get(version)))

    assert history.status_code == 200
    assert [r.title for r in history.context["page_obj"].object_list] == ["New", "Old title"]
    assert latest.history_user == superuser
    assert revert.status_code == 403
    feature.refresh_from_db()
    assert feature.title == "New"


def test_workspace_admin_edits_memberships_inline(superuser_client, workspace, editor):
    response = superuser_client.get(_url(type(workspace), "change", workspace.pk))

    inline = response.context["inline_admin_formsets"][0].formset
    assert inline.model._meta.label == "accounts.Membership"
    assert [form.instance.user for form in inline.forms] == [editor]


def test_product_admin_has_persona_and_driver_inlines(superuser_client, product):
    response = superuser_client.get(_url(Product, "change", product.pk))

    labels = [i.formset.model._meta.label for i in response.context["inline_admin_formsets"]]
    assert labels == ["roadmap.Persona", "roadmap.ScoringDriver"]


def test_revoke_action_on_api_tokens(superuser_client, rows):
    token = rows[ApiToken]

    response = superuser_client.post(
        _url(ApiToken, "changelist"),
        {"action": "revoke", admin.helpers.ACTION_CHECKBOX_NAME: [token.pk]},
    )

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_workspace_member_who_is_not_staff_is_sent_to_the_admin_login(client, editor, product):
    client.force_login(editor)

    response = client.get(_url(Feature, "changelist"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
