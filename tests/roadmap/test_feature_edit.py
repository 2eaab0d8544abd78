"""Creating, editing (with conflicts) and deleting a feature through its pages, and its history."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from roadmap.evidence import services
from roadmap.models import ChangeEvent, Feature, FeatureDriverScore, RoadmapItem
from roadmap.planning.services.features import feature_update
from roadmap.planning.services.roadmap import roadmap_item_save
from tests import factories as f


class _FormReader(HTMLParser):
    """The values a browser would send for the form posting to ``action``."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.data = action, False, {}
        self._select = self._textarea = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data.setdefault(name, []).append(attrs.get("value", "on"))
            elif kind != "submit":
                self.data.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "select":
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "textarea":
            self._textarea = name
            self.data.setdefault(name, []).append("")

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            self.data[self._select] = chosen or [self._options[0][0]]
            self._select = None
        elif tag == "textarea" and self._textarea:
            # Browsers drop the newline that follows <textarea>.
            value = self.data[self._textarea][-1]
            self.data[self._textarea][-1] = value[1:] if value.startswith("\n") else value
            self._textarea = None


def form_data(html: str, action: str) -> dict[str, list[str]]:
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.data, f"no form posting to {action}"
    return reader.data


def edit_url(feature) -> str:
    return reverse("roadmap:feature_edit", args=[feature.pk])


def load_form(client, feature) -> dict[str, list[str]]:
    response = client.get(edit_url(feature))
    assert response.status_code == 200
    return form_data(response.content.decode(), edit_url(feature))


def field_html(html: str, name: str) -> str:
    """The markup of one field as _field.html renders it (label to the end of its block)."""
    start = html.index(f'<label for="id_{name}"')
    ends = [html.find(end, start + 1) for end in ('<div class="field">', "</section>")]
    return html[start : min(e for e in ends if e != -1)]


@pytest.fixture
def feature(product, editor):
    return f.FeatureFactory(
        product=product,
        title="Audit log",
        description="Who changed what.",
        status="idea",
        effort=Decimal("2"),
        owner=editor,
    )


@pytest.fixture
def second_editor(workspace):
    return f.MembershipFactory(
        workspace=workspace, role=Role.EDITOR, user=f.UserFactory(display_name="Ada Lovelace")
    ).user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Editing -------------------------------------------------------------------------------------


def test_the_edit_form_is_filled_with_the_feature(editor_client, feature, product):
    persona = f.PersonaFactory(product=product, name="Team lead")
    feature.personas.add(persona)
    feature.tags.add(f.TagFactory(product=product, name="compliance"))

    data = load_form(editor_client, feature)

    assert data["title"] == ["Audit log"]
    assert data["status"] == ["idea"]
    assert data["effort"] == ["2.00"]
    assert data["personas"] == [str(persona.pk)]
    assert data["tags"] == ["compliance"]
    assert data["version"] == ["1"]
    # RICE's inputs are offered, ICE's are not.
    assert "reach" in data and "confidence" in data and "ease" not in data


def test_editor_saves_and_the_history_says_who_changed_what(client, workspace, feature):
    ada = f.MembershipFactory(
        workspace=workspace, user=f.UserFactory(display_name="Ada Lovelace")
    ).user
    client.force_login(ada)
    data = load_form(client, feature)
    data.update(status=["planned"], effort=["3"])

    response = client.post(edit_url(feature), data)

    assert response.status_code == 302
    assert response["Location"] == feature.get_absolute_url()
    feature.refresh_from_db()
    assert (feature.status, feature.effort, feature.version) == ("planned", Decimal("3"), 2)
    assert feature.score == 100 * 1 * 0.8 / 3
    html = client.get(feature.get_absolute_url()).content.decode()
    history = html[html.index('id="history-heading"') :]
    assert (
        "<strong>Ada Lovelace</strong> changed status from Idea to Planned, effort from 2 to 3"
        in history
    )
    assert '<time datetime="' in history.split("</li>")[0]


def test_history_lists_saves_newest_first_with_owners_and_long_texts(
    editor_client, editor, feature, second_editor
):
    feature_update(feature=feature, data={"owner": second_editor, "title": "Audit trail"})
    feature_update(
        feature=feature,
        data={"requirements": "## Must\n- export", "description": "", "effort": Decimal("4")},
    )

    html = editor_client.get(feature.get_absolute_url()).content.decode()

    history = html[html.index('id="history-heading"') :]
    newest = history.index("changed effort from 2 to 4 and edited the description and requirements")
    older = history.index(
        f"changed title from Audit log to Audit trail, owner from {editor.name} to Ada Lovelace"
    )
    assert newest < older
    assert "Someone" in history  # saved outside a request: nobody to name


def test_history_includes_the_roadmap_placement(editor_client, product, feature):
    growth = f.LaneFactory(product=product, name="Growth")
    core = f.LaneFactory(product=product, name="Core")
    item = roadmap_item_save(
        product=product, data={"feature": feature, "horizon": "next", "lane": growth}
    )
    roadmap_item_save(product=product, item=item, data={"horizon": "now", "lane": core})

    html = editor_client.get(feature.get_absolute_url()).content.decode()

    history = html[html.index('id="history-heading"') :]
    assert "put it on the roadmap in Next, lane Growth" in history
    assert "changed its roadmap horizon from Next to Now, lane from Growth to Core" in history


def test_invalid_input_is_shown_next_to_the_field_and_nothing_changes(editor_client, feature):
    before = Feature.objects.values().get(pk=feature.pk)
    history_rows = feature.history.count()
    data = load_form(editor_client, feature)
    data.update(title=["Audit log v2"], effort=["0"], confidence=["lots"])

    response = editor_client.post(edit_url(feature), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a whole number." in field_html(html, "confidence")
    assert 'value="Audit log v2"' in html  # the input is kept
    assert Feature.objects.values().get(pk=feature.pk) == before
    assert feature.history.count() == history_rows

    data["confidence"] = ["80"]
    response = editor_client.post(edit_url(feature), data)

    # The model's rule, reported by the service, lands next to its field.
    assert response.status_code == 400
    assert "Effort must be greater than 0." in field_html(response.content.decode(), "effort")
    assert Feature.objects.values().get(pk=feature.pk) == before


def test_weighted_driver_scores_are_edited_with_the_feature(editor_client, workspace):
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    fit = f.ScoringDriverFactory(product=product, name="Strategic fit", weight=Decimal("2"))
    value = f.ScoringDriverFactory(product=product, name="Customer value")
    feature = f.FeatureFactory(product=product)
    f.FeatureDriverScoreFactory(feature=feature, driver=fit, score=4)
    data = load_form(editor_client, feature)
    assert data[f"driver_{fit.pk}"] == ["4"]
    data.update({f"driver_{fit.pk}": ["7"], f"driver_{value.pk}": ["10"]})

    response = editor_client.post(edit_url(feature), data)

    assert response.status_code == 302
    scores = dict(
        FeatureDriverScore.objects.filter(feature=feature).values_list("driver_id", "score")
    )
    assert scores == {fit.pk: 7, value.pk: 10}
    feature.refresh_from_db()
    assert feature.score == pytest.approx((2 * 7 + 10) / 3)
    assert feature.version == 2  # a score change is an edit like any other


def test_an_out_of_range_driver_score_keeps_everything(editor_client, workspace):
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    fit = f.ScoringDriverFactory(product=product, name="Strategic fit")
    feature = f.FeatureFactory(product=product, title="Before")
    data = load_form(editor_client, feature)
    data.update({"title": ["After"], f"driver_{fit.pk}": ["11"]})

    response = editor_client.post(edit_url(feature), data)

    assert response.status_code == 400
    assert "A driver score must be between 0 and 10." in field_html(
        response.content.decode(), f"driver_{fit.pk}"
    )
    feature.refresh_from_db()
    assert (feature.title, feature.version) == ("Before", 1)
    assert not FeatureDriverScore.objects.filter(feature=feature).exists()


def test_requirements_cannot_inject_script(editor_client, feature):
    data = load_form(editor_client, feature)
    data["requirements"] = [
        "Intro <script>alert('x')</script>\n\n[click](javascript:alert(1)) "
        '<a href="javascript:alert(2)">raw</a>'
    ]

    assert editor_client.post(edit_url(feature), data).status_code == 302

    html = editor_client.get(feature.get_absolute_url()).content.decode()
    prose = html[html.index('<div class="prose">') :].split("</section>")[0]
    assert "<script" not in prose and "alert('x')" not in prose
    assert "javascript:" not in prose
    assert "Intro" in prose and "click" in prose


# --- Conflicts -----------------------------------------------------------------------------------


def test_a_concurrent_save_shows_both_versions_and_overwrites_nothing(
    editor_client, feature, second_editor
):
    # PM A loads the form; PM B saves a new title and effort meanwhile.
    mine = load_form(editor_client, feature)
    theirs = load_form(client_for(second_editor), feature)
    theirs.update(title=["Audit trail"], effort=["5"])
    assert client_for(second_editor).post(edit_url(feature), theirs).status_code == 302
    mine.update(effort=["1.5"], description=["Every change, with its author."])

    response = editor_client.post(edit_url(feature), mine)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ada Lovelace saved this feature while you were editing" in html
    row = html[html.index('data-conflict="effort"') :].split("</tr>")[0]
    assert '"conflict__value">1.5</span>' in row and '"conflict__value">5</span>' in row
    assert 'data-use-theirs="effort" data-values="[&quot;5.00&quot;]"' in row
    assert "saved by Ada Lovelace at" in html
    assert 'data-conflict="description"' not in html  # only A changed it: no conflict
    assert "They also changed Title" in html
    feature.refresh_from_db()
    assert (feature.title, feature.effort, feature.description, feature.version) == (
        "Audit trail",
        Decimal("5"),
        "Who changed what.",
        2,
    )
    # The form keeps A's input, takes B's title, and is now at B's version.
    again = form_data(html, edit_url(feature))
    assert again["effort"] == ["1.5"]
    assert again["description"] == ["Every change, with its author."]
    assert again["title"] == ["Audit trail"]
    assert again["version"] == ["2"]

    response = editor_client.post(edit_url(feature), again)

    assert response.status_code == 302
    feature.refresh_from_db()
    assert (feature.title, feature.effort, feature.description, feature.version) == (
        "Audit trail",
        Decimal("1.5"),
        "Every change, with its author.",
        3,
    )


def test_a_conflict_with_a_save_through_the_service(editor_client, feature, product):
    persona = f.PersonaFactory(product=product, name="Auditor")
    mine = load_form(editor_client, feature)
    feature_update(
        feature=Feature.objects.get(pk=feature.pk),
        data={"status": "discovery"},
        personas=[persona],
        expected_version=1,
    )
    mine.update(status=["planned"])

    response = editor_client.post(edit_url(feature), mine)

    html = response.content.decode()
    assert "Someone saved this feature while you were editing" in html
    row = html[html.index('data-conflict="status"') :].split("</tr>")[0]
    assert '"conflict__value">Planned</span>' in row
    assert '"conflict__value">Discovery</span>' in row
    assert "They also changed Personas" in html
    assert form_data(html, edit_url(feature))["personas"] == [str(persona.pk)]
    assert Feature.objects.get(pk=feature.pk).status == "discovery"


def test_discarding_mine_reloads_their_version(editor_client, feature, second_editor):
    mine = load_form(editor_client, feature)
    feature_update(feature=feature, data={"effort": Decimal("8")})
    mine.update(effort=["1"])
    html = editor_client.post(edit_url(feature), mine).content.decode()
    assert f'href="{edit_url(feature)}">Discard my changes</a>' in html

    fresh = load_form(editor_client, feature)

    assert fresh["effort"] == ["8.00"] and fresh["version"] == ["2"]


# --- Creating and deleting -----------------------------------------------------------------------


def test_editor_creates_a_feature(editor_client, product, editor):
    persona = f.PersonaFactory(product=product, name="Team lead")
    url = reverse("roadmap:feature_create", args=[product.slug])
    data = form_data(editor_client.get(url).content.decode(), url)
    data.update(
        title=["Single sign-on"],
        status=["discovery"],
        owner=[str(editor.pk)],
        tags=["Security, sso"],
        personas=[str(persona.pk)],
        reach=["400"],
        impact=["2.00"],
        confidence=["50"],
        effort=["4"],
        requirements=["- SAML\n- OIDC"],
    )

    response = editor_client.post(url, data)

    feature = Feature.objects.get(product=product, title="Single sign-on")
    assert response.status_code == 302 and response["Location"] == feature.get_absolute_url()
    assert (feature.status, feature.owner, feature.score) == ("discovery", editor, 100.0)
    assert sorted(t.name for t in feature.tags.all()) == ["security", "sso"]
    assert list(feature.personas.all()) == [persona]
    assert feature.requirements == "- SAML\n- OIDC"
    assert feature.history.get().history_type == "+"


def test_a_new_feature_needs_a_title(editor_client, product):
    url = reverse("roadmap:feature_create", args=[product.slug])
    data = form_data(editor_client.get(url).content.decode(), url)
    data.update(title=[""], description=["Kept"])

    response = editor_client.post(url, data)

    assert response.status_code == 400
    assert "This field is required." in field_html(response.content.decode(), "title")
    assert ">\nKept</textarea>" in response.content.decode()
    assert not Feature.objects.filter(product=product).exists()


def test_editor_deletes_a_feature_after_confirming(editor_client, product, feature):
    f.RoadmapItemFactory(product=product, feature=feature)
    url = reverse("roadmap:feature_delete", args=[feature.pk])

    confirm = editor_client.get(url)

    assert confirm.status_code == 200
    assert "comes off the roadmap" in confirm.content.decode()
    assert Feature.objects.filter(pk=feature.pk).exists()

    response = editor_client.post(url)

    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    assert not Feature.objects.filter(pk=feature.pk).exists()
    assert not RoadmapItem.objects.filter(product=product).exists()
    assert ChangeEvent.objects.filter(product=product).count() == 0  # a factory item: no event


# --- Who may do what -----------------------------------------------------------------------------


def test_viewer_reads_the_feature_without_edit_controls(viewer_client, feature):
    html = viewer_client.get(feature.get_absolute_url()).content.decode()

    assert edit_url(feature) not in html
    assert reverse("roadmap:feature_delete", args=[feature.pk]) not in html
    assert "Read-only" in html


def test_editor_sees_edit_and_delete(editor_client, feature):
    html = editor_client.get(feature.get_absolute_url()).content.decode()

    assert f'href="{edit_url(feature)}"' in html
    assert f'href="{reverse("roadmap:feature_delete", args=[feature.pk])}"' in html


def test_viewer_cannot_edit_create_or_delete(viewer_client, editor, feature, product):
    data = load_form(client_for(editor), feature)
    data["title"] = ["Hijacked"]
    create = reverse("roadmap:feature_create", args=[product.slug])
    delete = reverse("roadmap:feature_delete", args=[feature.pk])

    assert viewer_client.get(edit_url(feature)).status_code == 403
    assert viewer_client.post(edit_url(feature), data).status_code == 403
    assert viewer_client.get(create).status_code == 403
    assert viewer_client.post(create, {"title": "New"}).status_code == 403
    assert viewer_client.get(delete).status_code == 403
    assert viewer_client.post(delete).status_code == 403
    feature.refresh_from_db()
    assert (feature.title, feature.version) == ("Audit log", 1)
    assert Feature.objects.filter(product=product).count() == 1


def test_outsider_gets_404_everywhere(outsider_client, feature, product):
    for url in (
        feature.get_absolute_url(),
        edit_url(feature),
        reverse("roadmap:feature_delete", args=[feature.pk]),
        reverse("roadmap:feature_create", args=[product.slug]),
    ):
        assert outsider_client.get(url).status_code == 404
        assert outsider_client.post(url, {"title": "x"}).status_code == 404
    assert Feature.objects.filter(pk=feature.pk).exists()


# --- Queries -------------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_feature_page_queries_do_not_grow_with_history_evidence_or_personas(
    viewer_client, product, feature, editor, second_editor, django_assert_max_num_queries
):
    lanes = [f.LaneFactory(product=product) for _ in range(2)]
    releases = [f.ReleaseFactory(product=product) for _ in range(2)]
    item = roadmap_item_save(
        product=product, data={"feature": feature, "lane": lanes[0], "release": releases[0]}
    )
    feature_update(feature=feature, data={"effort": Decimal("3"), "owner": second_editor})
    small = _count(viewer_client, feature.get_absolute_url())

    for i in range(60):
        feature_update(
            feature=feature,
            data={"effort": Decimal(4 + i), "owner": (editor, second_editor)[i % 2]},
        )
        roadmap_item_save(
            product=product,
            item=item,
            data={"lane": lanes[i % 2], "release": releases[i % 2], "horizon": "now"},
        )
    insights = f.InsightFactory.create_batch(30, product=product)
    feature.insights.add(*insights)
    feature.personas.add(*f.PersonaFactory.create_batch(10, product=product))
    for n in range(5):
        services.experiment_save(
            product=product, data={"hypothesis": f"Hypothesis {n}"}, features=[feature]
        )

    # 18: the experiments are one prefetch, however many; the product's custom fields one more.
    with django_assert_max_num_queries(18):
        html = viewer_client.get(feature.get_absolute_url()).content.decode()
    assert html.count('class="history__entry') == 50  # the latest 50 saves
    assert html.count('class="card experiment"') == 5
    assert "the latest shown" in html
    assert html.count('<figure class="quote">') == 30
    assert _count(viewer_client, feature.get_absolute_url()) == small


def test_edit_form_queries_do_not_grow_with_members_personas_and_drivers(
    editor_client, workspace, django_assert_max_num_queries
):
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    feature = f.FeatureFactory(product=product)
    with django_assert_max_num_queries(20) as small:
        editor_client.get(edit_url(feature))
    f.MembershipFactory.create_batch(20, workspace=workspace)
    personas = f.PersonaFactory.create_batch(20, product=product)
    feature.personas.add(*personas[:10])
    for driver in f.ScoringDriverFactory.create_batch(10, product=product):
        f.FeatureDriverScoreFactory(feature=feature, driver=driver)

    with django_assert_max_num_queries(len(small.captured_queries)):
        data = load_form(editor_client, feature)
    assert len(data["personas"]) == 10
    assert sum(1 for name in data if name.startswith("driver_")) == 10
