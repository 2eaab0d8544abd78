"""Every admin that writes goes through its slice's service: the service's effect happens (its
normalising, history rows, confirmation, recompute), and its refusal comes back as an error on
the admin form with the service's message, nothing written, never a 500. Tokens and invitations
are revoked by the services that revoke them in the app."""

import datetime
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.messages import get_messages

from accounts.models import ApiToken, Invitation, Role, hash_token
from roadmap.models import (
    Comparison,
    Competitor,
    Insight,
    LaunchTask,
    LaunchTemplateTask,
    MarketSize,
    Objective,
    Positioning,
    PositioningAnswer,
    RevenueModel,
    ScoringDriver,
    Subscription,
    TableLayout,
    Tag,
    WebhookEndpoint,
)
from tests import factories as f
from tests import test_admin
from tests.test_admin import _post_data, _url

superuser, superuser_client = test_admin.superuser, test_admin.superuser_client


def _errors(response) -> dict:
    return response.context["adminform"].form.errors


def _edit(client, obj, **changes):
    """Post ``obj``'s admin change form back, with ``changes``."""
    page = client.get(_url(type(obj), "change", obj.pk))
    return client.post(_url(type(obj), "change", obj.pk), _post_data(page) | changes)


def _action(client, model, action, *objs):
    return client.post(
        _url(model, "changelist"),
        {"action": action, admin.helpers.ACTION_CHECKBOX_NAME: [o.pk for o in objs]},
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Webhook endpoints -------------------------------------------------------------------------


def test_webhook_endpoint_to_a_private_address_is_refused_on_the_form(superuser_client, workspace):
    response = superuser_client.post(
        _url(WebhookEndpoint, "add"),
        {
            "workspace": workspace.pk,
            "url": "http://127.0.0.1/hook",
            "description": "",
            "events": '["feature.created"]',
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    [message] = _errors(response)["url"]
    assert message.startswith("Webhooks go to public addresses only: ")
    assert not WebhookEndpoint.objects.exists()


def test_webhook_endpoint_moved_to_a_private_address_keeps_its_url(superuser_client, workspace):
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url="https://hooks.example.com/w", events=["feature.created"]
    )

    response = _edit(superuser_client, endpoint, url="http://10.0.0.8/w", description="Moved")

    assert response.status_code == 200
    assert _errors(response)["url"][0].startswith("Webhooks go to public addresses only: ")
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description) == ("https://hooks.example.com/w", "")


def test_webhook_endpoint_edited_in_admin_is_saved_by_the_service(superuser_client, workspace):
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url="https://hooks.example.com/w", events=["feature.created"]
    )

    # The service orders the events as WebhookEvent lists them and drops repeats.
    response = _edit(
        superuser_client,
        endpoint,
        description="CRM",
        events='["roadmap_item.moved", "feature.created", "feature.created"]',
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.description == "CRM"
    assert endpoint.events == ["feature.created", "roadmap_item.moved"]


# --- Strategy ----------------------------------------------------------------------------------


def test_competitor_saved_unchanged_in_admin_is_not_written(superuser_client, product):
    competitor = f.CompetitorFactory(product=product, name="Acme")
    before = Competitor.objects.get(pk=competitor.pk).updated_at

    unchanged = _edit(superuser_client, competitor)
    after_unchanged = Competitor.objects.get(pk=competitor.pk).updated_at
    changed = _edit(superuser_client, competitor, segment="Enterprise")

    assert (unchanged.status_code, changed.status_code) == (302, 302)
    assert after_unchanged == before
    competitor.refresh_from_db()
    assert competitor.segment == "Enterprise"
    assert competitor.updated_at > before


def test_competitor_deleted_in_admin_takes_its_comparisons(superuser_client, product):
    cell = f.ComparisonFactory(competitor=f.CompetitorFactory(product=product))

    response = superuser_client.post(
        _url(Competitor, "delete", cell.competitor.pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Competitor.objects.exists()
    assert not Comparison.objects.exists()


def test_comparison_deleted_in_admin_clears_the_cell(superuser_client, product):
    cell = f.ComparisonFactory(competitor=f.CompetitorFactory(product=product), note="Cheaper")

    edited = _edit(superuser_client, cell, status="partial", note="Half of it")
    stored = Comparison.objects.get(pk=cell.pk)
    deleted = superuser_client.post(_url(Comparison, "delete", cell.pk), {"post": "yes"})

    assert (edited.status_code, deleted.status_code) == (302, 302)
    assert (stored.status, stored.note) == ("partial", "Half of it")
    assert not Comparison.objects.exists()


def test_revenue_model_edited_in_admin_is_normalised_and_kept_in_history(
    superuser_client, superuser, product
):
    model = f.RevenueModelFactory(product=product)

    response = _edit(superuser_client, model, currency="usd")

    assert response.status_code == 302
    model.refresh_from_db()
    assert model.currency == "USD"
    latest = model.history.latest("history_date")
    assert (latest.currency, latest.history_user) == ("USD", superuser)


def test_revenue_model_with_a_bad_currency_gets_the_services_message(superuser_client, product):
    model = f.RevenueModelFactory(product=product, currency="EUR")

    response = _edit(superuser_client, model, currency="E1R")

    assert response.status_code == 200
    assert _errors(response) == {"currency": ["Use a three-letter ISO 4217 code, such as EUR."]}
    assert RevenueModel.objects.get(pk=model.pk).currency == "EUR"
    assert model.history.count() == 1


def test_positioning_answer_citing_another_products_persona_is_refused(superuser_client, product):
    answer = f.PositioningAnswerFactory(positioning=f.PositioningFactory(product=product))
    elsewhere = f.PersonaFactory(product=f.ProductFactory(workspace=product.workspace))

    response = _edit(superuser_client, answer, text="Changed", personas=[str(elsewhere.pk)])

    assert response.status_code == 200
    assert _errors(response) == {"personas": [f"“{elsewhere}” belongs to another product."]}
    answer.refresh_from_db()
    assert answer.text == "Field teams lose a day a week to paperwork."
    assert list(answer.personas.all()) == []


def test_positioning_answer_edited_in_admin_is_one_history_row_by_its_editor(
    superuser_client, superuser, product
):
    answer = f.PositioningAnswerFactory(positioning=f.PositioningFactory(product=product))
    persona = f.PersonaFactory(product=product)
    rows_before = answer.history.count()

    response = _edit(superuser_client, answer, text="New answer", personas=[str(persona.pk)])

    assert response.status_code == 302
    answer.refresh_from_db()
    assert (answer.text, answer.updated_by) == ("New answer", superuser)
    assert list(answer.personas.all()) == [persona]
    assert answer.history.count() == rows_before + 1
    assert answer.history.latest("history_date").history_user == superuser


def test_positioning_audiences_set_in_admin_are_recorded(superuser_client, superuser, product):
    positioning = f.PositioningFactory(product=product)

    response = _edit(superuser_client, positioning, show_to_investors="on")

    assert response.status_code == 302
    positioning.refresh_from_db()
    assert (positioning.show_to_investors, positioning.show_to_executives) == (True, False)
    assert positioning.history.latest("history_date").history_user == superuser


def test_positioning_deleted_in_admin_goes_with_its_answers(superuser_client, product):
    answer = f.PositioningAnswerFactory(positioning=f.PositioningFactory(product=product))

    response = superuser_client.post(
        _url(Positioning, "delete", answer.positioning.pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Positioning.objects.exists()
    assert not PositioningAnswer.objects.exists()


def test_market_size_and_price_plan_edits_go_through_their_services(superuser_client, product):
    size = f.MarketSizeFactory(product=product)
    plan = f.PricePlanFactory(product=product, name="Team")
    elsewhere = f.PersonaFactory(product=f.ProductFactory(workspace=product.workspace))

    sized = _edit(superuser_client, size, value="2500000")
    refused = _edit(superuser_client, plan, persona=str(elsewhere.pk))

    assert sized.status_code == 302
    assert MarketSize.objects.get(pk=size.pk).value == Decimal("2500000")
    assert refused.status_code == 200
    assert _errors(refused) == {"persona": ["This persona belongs to another product."]}
    plan.refresh_from_db()
    assert plan.persona is None


def test_launch_template_is_a_workspace_admins_to_edit_in_the_admin_too(
    superuser_client, superuser, workspace
):
    data = {"workspace": workspace.pk, "team": "marketing", "title": "Press kit"}
    data |= {"description": "", "days_before_release": "7", "position": "0"}

    refused = superuser_client.post(_url(LaunchTemplateTask, "add"), data)
    f.MembershipFactory(workspace=workspace, user=superuser, role=Role.ADMIN)
    added = superuser_client.post(_url(LaunchTemplateTask, "add"), data)

    assert refused.status_code == 200
    assert _errors(refused) == {"__all__": ["Only a workspace admin can edit the launch template."]}
    assert added.status_code == 302
    task = LaunchTemplateTask.objects.get()
    assert (task.title, task.days_before_release) == ("Press kit", 7)


def test_launch_template_task_delete_refused_by_the_service_is_a_message(
    superuser_client, workspace
):
    task = f.LaunchTemplateTaskFactory(workspace=workspace)

    response = superuser_client.post(_url(LaunchTemplateTask, "delete", task.pk), {"post": "yes"})
    bulk = superuser_client.post(
        _url(LaunchTemplateTask, "changelist"),
        {
            "action": "delete_selected",
            "post": "yes",
            admin.helpers.ACTION_CHECKBOX_NAME: [task.pk],
        },
    )

    assert (response.status_code, bulk.status_code) == (302, 302)
    assert _messages(bulk)[-1] == "Only a workspace admin can edit the launch template."
    assert LaunchTemplateTask.objects.filter(pk=task.pk).exists()
    # The action's log of the deletion went with the refused delete.
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()


def test_launch_task_done_and_reopened_by_admin_actions(superuser_client, superuser, product):
    task = f.LaunchTaskFactory(release=f.ReleaseFactory(product=product))

    done = _action(superuser_client, LaunchTask, "complete", task)
    task.refresh_from_db()
    done_at, done_by = task.done_at, task.done_by
    again = _action(superuser_client, LaunchTask, "complete", task)
    task.refresh_from_db()
    kept_at = task.done_at
    reopened = _action(superuser_client, LaunchTask, "reopen", task)
    task.refresh_from_db()

    assert (done.status_code, again.status_code, reopened.status_code) == (302, 302, 302)
    assert done_at is not None and done_by == superuser
    assert kept_at == done_at  # a task already done keeps its first completion
    assert (task.done_at, task.done_by) == (None, None)
    assert task.history.latest("history_date").history_user == superuser


def test_launch_task_edited_in_admin_is_in_its_history(superuser_client, superuser, product):
    task = f.LaunchTaskFactory(release=f.ReleaseFactory(product=product))
    due = datetime.date(2027, 3, 1)

    response = _edit(superuser_client, task, due_on=due.isoformat(), title="Ship notes")

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.due_on) == ("Ship notes", due)
    latest = task.history.latest("history_date")
    assert (latest.title, latest.history_user) == ("Ship notes", superuser)


# --- Evidence and planning -----------------------------------------------------------------------


def test_objective_linking_another_products_feature_is_refused(superuser_client, product):
    objective = f.ObjectiveFactory(product=product)
    elsewhere = f.FeatureFactory(product=f.ProductFactory(workspace=product.workspace))

    response = _edit(superuser_client, objective, features=[str(elsewhere.pk)])

    assert response.status_code == 200
    assert _errors(response) == {"features": [f"“{elsewhere}” belongs to another product."]}
    assert list(Objective.objects.get(pk=objective.pk).features.all()) == []


def test_insight_added_in_admin_links_its_features_and_moves_reach(superuser_client, product):
    product.scoring_framework, product.reach_source = "rice", "insights"
    product.save()
    feature = f.FeatureFactory(product=product)
    product.refresh_from_db()
    assert product.score_recompute_requested_at is None

    response = superuser_client.post(
        _url(Insight, "add"),
        {
            "product": product.pk,
            "source": "call",
            "customer": "Acme",
            "persona": "",
            "text": "Needs SSO.",
            "observed_on": "2026-11-20",
            "importance": "2",
            "features": [str(feature.pk)],
            "created_by": "",
        },
    )

    assert response.status_code == 302
    insight = Insight.objects.get()
    assert list(insight.features.all()) == [feature]
    product.refresh_from_db()
    assert product.score_recompute_requested_at is not None


def test_scoring_driver_edited_in_admin_asks_for_a_recompute(superuser_client, product):
    driver = f.ScoringDriverFactory(product=product, name="Revenue")
    product.refresh_from_db()
    assert product.score_recompute_requested_at is None

    response = _edit(superuser_client, driver, weight="3")

    assert response.status_code == 302
    assert ScoringDriver.objects.get(pk=driver.pk).weight == Decimal("3")
    product.refresh_from_db()
    assert product.score_recompute_requested_at is not None


def test_table_layout_edited_in_admin_keeps_to_hideable_columns(superuser_client, editor, product):
    layout = TableLayout.objects.create(user=editor, product=product, hidden_columns=["kano"])

    refused = _edit(superuser_client, layout, hidden_columns='["kano", "score"]')
    kept = TableLayout.objects.get(pk=layout.pk).hidden_columns
    saved = _edit(superuser_client, layout, hidden_columns='["roadmap", "status", "status"]')

    assert refused.status_code == 200
    assert _errors(refused) == {"__all__": ["columns: These columns cannot be hidden: score."]}
    assert kept == ["kano"]
    assert saved.status_code == 302
    # Stored in the table's order of columns, once each, as the table's own settings do.
    assert TableLayout.objects.get(pk=layout.pk).hidden_columns == ["status", "roadmap"]


# --- Subscriptions -----------------------------------------------------------------------------


def _subscription_data(product, email) -> dict:
    return {
        "product": product.pk,
        "share_link": "",
        "email": email,
        "name": " Ada ",
        "user": "",
        "frequency": "weekly",
        "weekday": "0",
        "send_time": "09:00",
        "timezone": "UTC",
    }


def test_subscriber_added_in_admin_is_confirmed_as_a_pm_adds_one(superuser_client, product):
    response = superuser_client.post(
        _url(Subscription, "add"), _subscription_data(product, "Ada@Example.com")
    )

    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert (subscription.email, subscription.name) == ("ada@example.com", "Ada")
    assert subscription.confirmed_at is not None
    assert subscription.sent_through == subscription.confirmed_at


def test_subscriber_already_following_gets_the_services_error(superuser_client, product):
    Subscription.objects.create(product=product, email="ada@example.com")

    response = superuser_client.post(
        _url(Subscription, "add"), _subscription_data(product, "ADA@example.com")
    )

    assert response.status_code == 200
    assert _errors(response) == {"email": ["This address already follows this roadmap."]}
    assert Subscription.objects.count() == 1


def test_subscription_is_read_only_once_made_and_deleted_by_the_service(superuser_client, product):
    subscription = Subscription.objects.create(product=product, email="ada@example.com")

    change = superuser_client.get(_url(Subscription, "change", subscription.pk))
    deleted = superuser_client.post(_url(Subscription, "delete", subscription.pk), {"post": "yes"})

    assert change.context["has_change_permission"] is False
    assert deleted.status_code == 302
    assert not Subscription.objects.exists()


# --- Accounts ------------------------------------------------------------------------------------


def test_api_tokens_revoked_in_admin_once_and_a_second_revoke_changes_nothing(
    superuser_client, editor, workspace
):
    token = ApiToken.objects.create(
        user=editor, workspace=workspace, name="Sync", prefix="abc123", token_hash=hash_token("t")
    )

    first = _action(superuser_client, ApiToken, "revoke", token)
    token.refresh_from_db()
    revoked_at = token.revoked_at
    second = _action(superuser_client, ApiToken, "revoke", token)
    token.refresh_from_db()

    assert (first.status_code, second.status_code) == (302, 302)
    assert revoked_at is not None
    assert token.revoked_at == revoked_at
    assert _messages(first)[-1] == "1 revoked."
    assert _messages(second)[-1] == "0 revoked."


def test_invitations_revoked_in_admin_by_a_superuser_who_is_no_member(
    superuser_client, superuser, workspace
):
    invitation = Invitation.objects.create(
        workspace=workspace,
        email="new@example.com",
        token_hash=hash_token("invite"),
        invited_by=superuser,
        expires_at=datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC),
    )

    first = _action(superuser_client, Invitation, "revoke", invitation)
    invitation.refresh_from_db()
    revoked_at = invitation.revoked_at
    second = _action(superuser_client, Invitation, "revoke", invitation)
    invitation.refresh_from_db()

    assert (first.status_code, second.status_code) == (302, 302)
    assert revoked_at is not None and not invitation.is_usable
    assert invitation.revoked_at == revoked_at
    assert _messages(second)[-1] == "0 revoked."


def test_tag_deleted_in_admin_is_taken_off_each_feature_through_the_feature_writer(
    superuser_client, product
):
    tagged = f.FeatureFactory(product=product)
    other = f.FeatureFactory(product=product)
    doomed = f.TagFactory(product=product, name="doomed")
    kept = f.TagFactory(product=product, name="kept")
    tagged.tags.set([doomed, kept])
    other.tags.set([kept])

    add = superuser_client.get(_url(Tag, "add"))
    response = superuser_client.post(_url(Tag, "delete", doomed.pk), {"post": "yes"})

    assert add.status_code == 403
    assert response.status_code == 302
    assert not Tag.objects.filter(pk=doomed.pk).exists()
    tagged.refresh_from_db()
    other.refresh_from_db()
    assert [t.name for t in tagged.tags.all()] == ["kept"]
    assert [t.name for t in other.tags.all()] == ["kept"]
