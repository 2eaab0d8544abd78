"""Launch readiness: the workspace template, each release's checklist, the derived status and its
blockers, and shipping a release through the same path as a manual ship."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from roadmap import bounds
from roadmap.models import (
    ChangeEvent,
    ChangeKind,
    Feature,
    LaunchTask,
    LaunchTemplateTask,
    Release,
    RoadmapItem,
)
from roadmap.sharing import external
from roadmap.sharing.services.digests import digest_build, subscription_add
from roadmap.strategy.selectors.launch import release_readiness, releases_readiness
from roadmap.strategy.services import launch as services
from tests import factories as f

TODAY = timezone.localdate()


@pytest.fixture
def template(workspace):
    """Three template tasks: engineering 7 days before, marketing 14 days before, docs on the
    day."""
    return [
        f.LaunchTemplateTaskFactory(
            workspace=workspace, team="engineering", title="Code freeze", days_before_release=7
        ),
        f.LaunchTemplateTaskFactory(
            workspace=workspace, team="marketing", title="Blog post", days_before_release=14
        ),
        f.LaunchTemplateTaskFactory(
            workspace=workspace, team="documentation", title="Release notes", days_before_release=0
        ),
    ]


@pytest.fixture
def release(product):
    return f.ReleaseFactory(
        product=product, name="R1", target_date=TODAY + datetime.timedelta(days=30)
    )


def _item(product, release, title, status="in_progress", visibility="external"):
    feature = f.FeatureFactory(product=product, title=title, status=status)
    return f.RoadmapItemFactory(
        product=product,
        feature=feature,
        release=release,
        visibility=visibility,
        external_title=f"Public {title}",
    )


# --- The template --------------------------------------------------------------------------------


def test_only_admins_edit_the_template(workspace, admin_user, editor):
    task = services.launch_template_task_save(
        workspace=workspace,
        data={"team": "support", "title": "Train the team", "days_before_release": 3},
        actor=admin_user,
    )

    with pytest.raises(PermissionDenied):
        services.launch_template_task_save(
            workspace=workspace, data={"title": "Hijacked"}, task=task, actor=editor
        )
    with pytest.raises(PermissionDenied):
        services.launch_template_task_delete(task=task, actor=editor)

    task.refresh_from_db()
    assert (task.title, task.position) == ("Train the team", 0)


def test_new_template_tasks_go_last_in_their_team(workspace, admin_user):
    for title in ("First", "Second"):
        services.launch_template_task_save(
            workspace=workspace, data={"team": "design", "title": title}, actor=admin_user
        )

    assert list(
        LaunchTemplateTask.objects.filter(workspace=workspace).values_list("title", "position")
    ) == [("First", 0), ("Second", 1)]


def test_template_page_members_read_admins_edit(client, workspace, admin_user, viewer, template):
    url = reverse("roadmap:launch_template")
    client.force_login(viewer)
    read = client.get(url)
    refused = client.post(url, {"team": "sales", "title": "Battlecard"})
    client.force_login(admin_user)
    added = client.post(url, {"team": "sales", "title": "Battlecard", "days_before_release": 5})
    bad = client.post(url, {"team": "nope", "title": "", "days_before_release": "x"})
    edit_url = reverse("roadmap:launch_template_edit", args=[template[0].pk])
    edited = client.post(
        edit_url, {"team": "engineering", "title": "Feature freeze", "days_before_release": 10}
    )
    deleted = client.post(reverse("roadmap:launch_template_delete", args=[template[1].pk]))

    assert read.status_code == 200 and "Code freeze" in read.content.decode()
    assert "Add to template" not in read.content.decode()
    assert refused.status_code == 403
    assert added.status_code == 302 and bad.status_code == 400
    bad_body = bad.content.decode()
    assert "Select a valid choice" in bad_body and "This field is required." in bad_body
    assert edited.status_code == 302 and deleted.status_code == 302
    assert sorted(LaunchTemplateTask.objects.values_list("title", "days_before_release")) == [
        ("Battlecard", 5),
        ("Feature freeze", 10),
        ("Release notes", 0),
    ]


def test_every_member_reaches_the_template_from_the_sidebar(client, viewer, template):
    url = reverse("roadmap:launch_template")
    client.force_login(viewer)

    home = client.get(reverse("roadmap:home")).content.decode()
    page = client.get(url).content.decode()

    assert f'<a class="nav__link" href="{url}">Launch checklist</a>' in home
    assert f'<a class="nav__link" href="{url}" aria-current="page">Launch checklist</a>' in page


def test_template_of_another_workspace_is_not_found(client, admin_user):
    stranger = f.LaunchTemplateTaskFactory()
    client.force_login(admin_user)

    assert (
        client.get(reverse("roadmap:launch_template_edit", args=[stranger.pk])).status_code == 404
    )
    assert (
        client.post(reverse("roadmap:launch_template_delete", args=[stranger.pk])).status_code
        == 404
    )
    assert LaunchTemplateTask.objects.filter(pk=stranger.pk).exists()


# --- The checklist -------------------------------------------------------------------------------


def test_checklist_is_copied_with_due_dates_before_the_target(release, template):
    added = services.release_checklist_create(release=release)

    target = release.target_date
    assert sorted((t.team, t.title, t.due_on) for t in added) == [
        ("documentation", "Release notes", target),
        ("engineering", "Code freeze", target - datetime.timedelta(days=7)),
        ("marketing", "Blog post", target - datetime.timedelta(days=14)),
    ]
    assert LaunchTask.history.filter(history_type="+").count() == 3


def test_checklist_creation_is_idempotent_and_adds_only_what_is_missing(
    release, template, workspace
):
    services.release_checklist_create(release=release)
    again = services.release_checklist_create(release=release)
    f.LaunchTemplateTaskFactory(workspace=workspace, team="support", title="FAQ")
    grown = services.release_checklist_create(release=release)

    assert again == []
    assert [t.title for t in grown] == ["FAQ"]
    assert LaunchTask.objects.filter(release=release).count() == 4


@pytest.mark.parametrize("days", [731, -731, 10**9])
def test_a_lead_time_beyond_two_years_is_refused(workspace, admin_user, days):
    with pytest.raises(ValidationError) as error:
        services.launch_template_task_save(
            workspace=workspace,
            data={"team": "support", "title": "Plan", "days_before_release": days},
            actor=admin_user,
        )

    assert error.value.message_dict == {"days_before_release": [bounds.LEAD_DAYS_MESSAGE]}


def test_due_dates_stay_in_the_years_dates_may_take(product, workspace):
    release = f.ReleaseFactory(product=product, target_date=datetime.date(2000, 3, 1))
    f.LaunchTemplateTaskFactory(workspace=workspace, title="Early", days_before_release=730)

    (task,) = services.release_checklist_create(release=release)

    assert task.due_on == bounds.EARLIEST_DATE
    task.full_clean()


def test_checklist_without_target_date_has_no_due_dates(product, template):
    release = f.ReleaseFactory(product=product, target_date=None)

    services.release_checklist_create(release=release)

    assert set(LaunchTask.objects.values_list("due_on", flat=True)) == {None}


def test_empty_template_is_a_clear_error(release):
    with pytest.raises(ValidationError, match="launch template has no tasks"):
        services.release_checklist_create(release=release)
    assert not LaunchTask.objects.exists()


def test_checklist_button_on_the_page(editor_client, product, release, template):
    url = reverse("roadmap:release_checklist", args=[product.slug, release.pk])

    first = editor_client.post(url, follow=True)
    second = editor_client.post(url, follow=True)

    assert "3 tasks added from the template." in first.content.decode()
    assert "already has every task" in second.content.decode()
    assert LaunchTask.objects.count() == 3


def test_task_owner_must_be_a_member(editor_client, product, release):
    outsider = f.UserFactory()
    url = reverse("roadmap:launch_task_add", args=[product.slug, release.pk])

    response = editor_client.post(url, {"team": "sales", "title": "Deck", "owner": outsider.pk})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not LaunchTask.objects.exists()


def test_task_add_and_edit(editor_client, product, release, editor):
    add = editor_client.post(
        reverse("roadmap:launch_task_add", args=[product.slug, release.pk]),
        {"team": "sales", "title": "Deck", "owner": editor.pk, "due_on": "2031-01-02"},
    )
    task = LaunchTask.objects.get()
    edit = editor_client.post(
        reverse("roadmap:launch_task_edit", args=[product.slug, release.pk, task.pk]),
        {"team": "marketing", "title": "Launch deck", "owner": "", "due_on": ""},
    )
    task.refresh_from_db()

    assert add.status_code == 302 and edit.status_code == 302
    assert (task.team, task.title, task.owner, task.due_on) == (
        "marketing",
        "Launch deck",
        None,
        None,
    )


def test_ticking_a_task_off_and_reopening_it(editor_client, product, release, editor):
    task = f.LaunchTaskFactory(release=release, title="Blog post")
    url = reverse("roadmap:launch_task_done", args=[product.slug, release.pk, task.pk])

    done = editor_client.post(url, {"done": "1"}, HTTP_HX_REQUEST="true")
    task.refresh_from_db()
    done_at = task.done_at
    again = editor_client.post(url, {"done": "1"})
    task.refresh_from_db()
    assert task.done_at == done_at  # the first completion is kept
    reopened = editor_client.post(url, {})
    task.refresh_from_db()

    body = done.content.decode()
    assert done.status_code == 200
    assert f'id="task-{task.pk}"' in body and "checked" in body
    assert 'id="readiness"' in body and 'data-hx-swap-oob="true"' in body
    assert "Ready to ship" in body
    assert again.status_code == 302
    assert reopened.status_code == 302 and task.done_at is None and task.done_by is None
    assert [h.history_user for h in task.history.order_by("history_id")][-2:] == [editor, editor]


def test_viewer_and_outsider_cannot_work_the_checklist(
    viewer_client, product, release, outsider, client
):
    task = f.LaunchTaskFactory(release=release)
    done_url = reverse("roadmap:launch_task_done", args=[product.slug, release.pk, task.pk])

    assert (
        viewer_client.get(reverse("roadmap:release", args=[product.slug, release.pk])).status_code
        == 200
    )
    assert viewer_client.post(done_url, {"done": "1"}).status_code == 403
    ship = reverse("roadmap:release_ship", args=[product.slug, release.pk])
    assert viewer_client.post(ship).status_code == 403
    client.force_login(outsider)
    assert client.get(reverse("roadmap:releases", args=[product.slug])).status_code == 404
    assert client.post(done_url, {"done": "1"}).status_code == 404
    task.refresh_from_db()
    assert task.done_at is None


# --- Readiness -----------------------------------------------------------------------------------


def test_readiness_moves_from_not_started_to_ready(product, release):
    assert release_readiness(release=release).status == "not_started"
    item = _item(product, release, "SSO", status="planned")
    task = f.LaunchTaskFactory(release=release, team="marketing", title="Blog post")
    assert release_readiness(release=release).status == "not_started"

    services.launch_task_complete(task=task)
    readiness = release_readiness(release=release)
    assert readiness.status == "in_progress"
    assert [b.text for b in readiness.blockers] == ["“SSO” is still planned"]

    Feature.objects.filter(pk=item.feature_id).update(status="in_progress")
    readiness = release_readiness(release=release)
    assert readiness.status == "ready"
    assert readiness.blockers == []
    assert (readiness.tasks_done, readiness.tasks_total, readiness.percent) == (1, 1, 100)


def test_readiness_blockers_name_overdue_tasks_and_count_the_rest(product, release, editor):
    _item(product, release, "Archived one", status="archived")
    f.LaunchTaskFactory(
        release=release,
        team="support",
        title="Train support",
        owner=editor,
        due_on=TODAY - datetime.timedelta(days=2),
    )
    f.LaunchTaskFactory(release=release, team="marketing", title="A")
    f.LaunchTaskFactory(release=release, team="marketing", title="B")
    f.LaunchTaskFactory(release=release, team="design", title="Done", done_at=timezone.now())

    readiness = release_readiness(release=release)

    due = TODAY - datetime.timedelta(days=2)
    assert readiness.status == "in_progress"
    assert [b.text for b in readiness.blockers] == [
        f"Overdue since {due.day} {due:%b}: Train support (Support, {editor.name})",
        "Marketing: 2 open tasks",
    ]
    assert [t.team for t in readiness.teams] == ["design", "marketing", "support"]
    assert readiness.items_counted == 0  # archived items do not count


def test_no_checklist_is_a_blocker_and_final_releases_have_none(product, release):
    _item(product, release, "SSO")
    assert [b.kind for b in release_readiness(release=release).blockers] == ["checklist"]
    Release.objects.filter(pk=release.pk).update(status="cancelled")
    release.refresh_from_db()
    readiness = release_readiness(release=release)
    assert (readiness.status, readiness.blockers) == ("cancelled", [])


def test_releases_list_queries_do_not_grow(editor_client, product, django_assert_max_num_queries):
    url = reverse("roadmap:releases", args=[product.slug])
    first = f.ReleaseFactory(product=product)
    f.LaunchTaskFactory(release=first)
    _item(product, first, "One")
    with django_assert_max_num_queries(20) as few:
        editor_client.get(url)
    for n in range(4):
        r = f.ReleaseFactory(product=product)
        f.LaunchTaskFactory.create_batch(3, release=r)
        _item(product, r, f"Item {n}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = editor_client.get(url)

    assert response.status_code == 200
    assert len(releases_readiness(product=product)) == 5


def test_release_page_queries_do_not_grow(
    editor_client, product, release, django_assert_max_num_queries, editor
):
    url = reverse("roadmap:release", args=[product.slug, release.pk])
    f.LaunchTaskFactory(release=release, owner=editor)
    _item(product, release, "One")
    with django_assert_max_num_queries(30) as few:
        editor_client.get(url)
    f.LaunchTaskFactory.create_batch(6, release=release, owner=editor, team="sales")
    for n in range(4):
        _item(product, release, f"More {n}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = editor_client.get(url)
    assert "More 3" in response.content.decode()


# --- Shipping ------------------------------------------------------------------------------------


def test_a_release_that_is_not_ready_is_refused_and_nothing_changes(product, release, editor):
    item = _item(product, release, "SSO", status="planned")
    f.LaunchTaskFactory(release=release, title="Open task")

    with pytest.raises(ValidationError) as excinfo:
        services.release_ship(release=release, actor=editor)

    assert excinfo.value.messages == [
        "“R1” is not ready to ship.",
        "Engineering: 1 open task",
        "“SSO” is still planned",
    ]
    release.refresh_from_db()
    assert release.status == "planned"
    assert Feature.objects.get(pk=item.feature_id).status == "planned"
    assert not ChangeEvent.objects.filter(kind=ChangeKind.SHIPPED).exists()


def test_only_an_admin_may_force_a_release_that_is_not_ready(product, release, editor, admin_user):
    item = _item(product, release, "SSO", status="planned")

    with pytest.raises(PermissionDenied):
        services.release_ship(release=release, actor=editor, force=True)
    assert Feature.objects.get(pk=item.feature_id).status == "planned"

    result = services.release_ship(release=release, actor=admin_user, force=True)

    assert result.forced and result.shipped == ("SSO",)
    assert Feature.objects.get(pk=item.feature_id).status == "shipped"


def test_shipping_ships_features_and_themes_like_a_manual_ship(product, release, editor):
    sso = _item(product, release, "SSO")
    audit = _item(product, release, "Audit", visibility="internal")
    done = _item(product, release, "Already shipped", status="shipped")
    archived = _item(product, release, "Archived", status="archived")
    theme = f.RoadmapItemFactory(
        product=product,
        feature=None,
        title="Mobile theme",
        theme_status="in_progress",
        release=release,
        visibility="external",
    )
    task = f.LaunchTaskFactory(release=release)
    services.launch_task_complete(task=task, actor=editor)
    before = ChangeEvent.objects.count()

    result = services.release_ship(release=release, actor=editor)

    assert not result.forced
    assert sorted(result.shipped) == ["Audit", "Mobile theme", "SSO"]
    release.refresh_from_db()
    assert release.status == "released"
    statuses = dict(Feature.objects.values_list("title", "status"))
    assert statuses == {
        "SSO": "shipped",
        "Audit": "shipped",
        "Already shipped": "shipped",
        "Archived": "archived",
    }
    assert RoadmapItem.objects.get(pk=theme.pk).theme_status == "shipped"
    shipped = ChangeEvent.objects.filter(kind=ChangeKind.SHIPPED).order_by("item_id")
    assert sorted(e.item_id for e in shipped) == sorted([sso.pk, audit.pk, theme.pk])
    assert all(e.actor == editor for e in shipped)
    assert (
        not ChangeEvent.objects.filter(item__in=[done, archived], pk__gt=0)
        .filter(id__gt=before)
        .exists()
    )
    assert Feature.objects.get(title="SSO").rank is None
    with pytest.raises(ValidationError, match="already shipped"):
        services.release_ship(release=release, actor=editor)


@pytest.mark.parametrize("framework", ["rice", "weighted"])
def test_shipping_runs_the_same_queries_for_2_or_20_features(workspace, editor, framework):
    def ship(count: int) -> int:
        product = f.ProductFactory(workspace=workspace, scoring_framework=framework)
        release = f.ReleaseFactory(product=product)
        for i in range(count):
            _item(product, release, f"Feature {i}")
        f.FeatureFactory.create_batch(30, product=product)  # re-ranked, not shipped
        services.launch_task_complete(task=f.LaunchTaskFactory(release=release), actor=editor)
        with CaptureQueriesContext(connection) as captured:
            result = services.release_ship(release=release, actor=editor, force=False)
        assert len(result.shipped) == count
        return len(captured)

    small = ship(2)
    large = ship(20)

    assert large <= small
    assert Feature.objects.filter(status="shipped").count() == 22


def test_shipped_items_show_as_shipped_recently_and_in_the_digest_exactly_once(product, release):
    _item(product, release, "SSO")
    _item(product, release, "Secret", visibility="internal")
    link = f.ShareLinkFactory(product=product, audience="customers")
    subscription = subscription_add(product=product, share_link=link, email="cto@example.com")
    since = timezone.now() - datetime.timedelta(seconds=1)
    services.launch_task_complete(task=f.LaunchTaskFactory(release=release))

    services.release_ship(release=release)

    roadmap = external.external_roadmap(product=product, audience="customers")
    assert [i["title"] for i in roadmap["shipped_recently"]] == ["Public SSO"]
    digest = digest_build(
        subscription=subscription,
        since=since,
        until=timezone.now() + datetime.timedelta(seconds=1),
    )
    assert digest is not None
    assert digest.text.count("Public SSO") == 1
    assert "Shipped" in digest.text
    assert "Secret" not in digest.text


def test_ship_button(editor_client, admin_user, client, product, release):
    _item(product, release, "SSO", status="planned")
    url = reverse("roadmap:release_ship", args=[product.slug, release.pk])

    refused = editor_client.post(url)
    forced_by_editor = editor_client.post(url, {"force": "1"})
    client.force_login(admin_user)
    page = client.get(reverse("roadmap:release", args=[product.slug, release.pk]))
    forced = client.post(url, {"force": "1"}, follow=True)

    assert refused.status_code == 400
    assert "is not ready to ship" in refused.content.decode()
    assert forced_by_editor.status_code == 403
    assert "Ship although it is not ready" in page.content.decode()
    assert "“R1” shipped: 1 item moved to shipped. Shipped although not ready." in (
        forced.content.decode()
    )
    assert Release.objects.get(pk=release.pk).status == "released"
    # Recorded like any edit in the browser: who shipped it, in the feature's history too.
    assert Feature.objects.get(title="SSO").history.first().history_user == admin_user
    assert ChangeEvent.objects.get(kind=ChangeKind.SHIPPED).actor == admin_user
