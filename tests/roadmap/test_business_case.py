"""The business case: features' revenue and cost by release and by quarter, the revenue model's
plans with their assumptions, the charts' geometry, and the page."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from roadmap.models import PricePlan, RevenueModel
from roadmap.strategy import charts
from roadmap.strategy.selectors.strategy import business_case, plan_forecast
from roadmap.strategy.services import strategy as services
from tests import factories as f

D = Decimal


@pytest.fixture
def case_product(product):
    """Releases R1 (target 15 Feb 2027) and R2 (no date); features landing in Q1 2027 (by end
    date and by release), Q3 2027, unscheduled, one archived and one without figures."""
    r1 = f.ReleaseFactory(product=product, name="R1", target_date=datetime.date(2027, 2, 15))
    r2 = f.ReleaseFactory(product=product, name="R2", target_date=None)

    def feature(title, revenue, cost, **item):
        feature = f.FeatureFactory(
            product=product,
            title=title,
            expected_revenue=None if revenue is None else D(revenue),
            cost=None if cost is None else D(cost),
            status=item.pop("status", "planned"),
        )
        if item:
            f.RoadmapItemFactory(product=product, feature=feature, **item)
        return feature

    feature("By end date", "1000", "400", end_date=datetime.date(2027, 3, 31), release=r2)
    feature("By release", "500", None, release=r1)
    feature("Later", "2000", "1500", end_date=datetime.date(2027, 8, 1))
    feature("Unplaced", None, "300")
    feature("No release no date", "50", "10", release=r2)
    feature("Archived", "99999", "99999", status="archived", release=r1)
    feature("No figures", None, None, release=r1)
    return product


def test_features_roll_up_by_quarter_with_empty_quarters_and_unscheduled_last(case_product):
    case = business_case(product=case_product)

    assert [(b.label, b.revenue, b.cost, len(b.features)) for b in case.by_quarter] == [
        ("Q1 2027", D("1500"), D("400"), 2),
        ("Q2 2027", D("0"), D("0"), 0),
        ("Q3 2027", D("2000"), D("1500"), 1),
        ("Unscheduled", D("50"), D("310"), 2),
    ]
    assert [(p.label, p.revenue, p.cost) for p in case.cumulative] == [
        ("Q1 2027", D("1500"), D("400")),
        ("Q2 2027", D("1500"), D("400")),
        ("Q3 2027", D("3500"), D("1900")),
    ]
    assert (case.revenue, case.cost, case.net) == (D("3550"), D("2210"), D("1340"))
    assert case.features_without_figures == 1


def test_features_roll_up_by_release_soonest_first_then_undated_then_none(case_product):
    case = business_case(product=case_product)

    assert [(b.label, b.revenue, b.cost) for b in case.by_release] == [
        ("R1", D("500"), D("0")),
        ("R2", D("1050"), D("410")),
        ("No release", D("2000"), D("1800")),
    ]
    by_title = {feature.title: feature for b in case.by_release for feature in b.features}
    assert by_title["By end date"].dated_by == "roadmap end date"
    assert by_title["By release"].dated_by == "release target date"
    assert by_title["By release"].quarter == "Q1 2027"
    assert by_title["Unplaced"].quarter == "Unscheduled"


def test_plans_use_the_persona_segment_and_the_model_or_plan_conversion(product):
    ops = f.PersonaFactory(product=product, name="Ops", segment_size=400)
    f.PersonaFactory(product=product, name="Finance", segment_size=100)
    f.RevenueModelFactory(product=product, currency="USD", conversion_rate=D("2.5"))
    f.PricePlanFactory(product=product, name="Team", yearly_price=D("1200"), persona=ops)
    f.PricePlanFactory(
        product=product, name="Enterprise", yearly_price=D("10000"), conversion_rate=D("1")
    )

    case = business_case(product=product)

    rows = [
        (p.plan.name, p.segment, p.segment_size, p.conversion_rate, p.rate_from, p.customers)
        for p in case.plans
    ]
    assert rows == [
        ("Team", "Ops", 400, D("2.5"), "model", D("10.00")),
        ("Enterprise", "All personas", 500, D("1"), "plan", D("5.00")),
    ]
    assert [p.yearly_revenue for p in case.plans] == [D("12000.00"), D("50000.00")]
    assert case.plans_revenue == D("62000.00")
    assert case.currency == "USD" and case.model_saved


def test_without_a_revenue_model_the_defaults_are_shown(product):
    case = business_case(product=product)

    assert not case.model_saved
    assert (case.revenue_model.currency, case.revenue_model.conversion_rate) == ("EUR", D("2.00"))
    assert case.plans == [] and case.by_quarter == [] and case.quarter_chart.empty


def test_plan_forecast_of_a_removed_persona_counts_no_customers(product):
    plan = PricePlan(name="Ghost", yearly_price=D("100"), persona_id=999_999)

    forecast = plan_forecast(plan=plan, model=RevenueModel(), personas=[])

    assert (forecast.segment, forecast.customers, forecast.yearly_revenue) == (
        "A removed persona",
        D("0.00"),
        D("0.00"),
    )


def test_business_case_queries_do_not_grow(
    case_product, editor_client, django_assert_max_num_queries
):
    url = reverse("roadmap:business_case", args=[case_product.slug])
    f.PricePlanFactory(product=case_product, persona=f.PersonaFactory(product=case_product))
    with django_assert_max_num_queries(30) as few:
        editor_client.get(url)
    for n in range(10):
        feature = f.FeatureFactory(product=case_product, expected_revenue=D(n), cost=D(1))
        f.RoadmapItemFactory(
            product=case_product, feature=feature, end_date=datetime.date(2028, 1 + n, 1)
        )
        f.PricePlanFactory(product=case_product, persona=f.PersonaFactory(product=case_product))

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = editor_client.get(url)
    assert response.status_code == 200


def test_page_shows_tables_charts_and_assumptions(case_product, viewer_client):
    f.PricePlanFactory(product=case_product, name="Starter", yearly_price=D("600"))

    response = viewer_client.get(reverse("roadmap:business_case", args=[case_product.slug]))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('role="img"') == 2
    assert '<title id="chart-quarters-title">Revenue vs. cost by quarter</title>' in body
    assert 'id="by-quarter"' in body and 'id="cumulative"' in body
    assert "Q2 2027" in body and "Unscheduled" in body and "3,550" in body
    assert "These are the defaults" in body and "Starter" in body
    assert "Save assumptions" not in body  # viewers read


def test_revenue_model_form_saves_and_refuses_bad_input(editor_client, product, editor):
    url = reverse("roadmap:revenue_model", args=[product.slug])

    saved = editor_client.post(url, {"currency": "usd", "conversion_rate": "3.5", "notes": ""})
    bad = editor_client.post(url, {"currency": "DOLLARS", "conversion_rate": "2"})
    too_high = editor_client.post(url, {"currency": "EUR", "conversion_rate": "150"})

    assert saved.status_code == 302
    model = RevenueModel.objects.get(product=product)
    assert (model.currency, model.conversion_rate) == ("USD", D("3.50"))
    assert model.history.first().history_user == editor
    assert bad.status_code == 400 and too_high.status_code == 400
    assert "Ensure this value has at most 3 characters" in bad.content.decode()
    assert "A conversion rate is a percentage, at most 100." in too_high.content.decode()
    model.refresh_from_db()
    assert (model.currency, model.conversion_rate) == ("USD", D("3.50"))


def test_revenue_model_service_refuses_non_iso_currency(product):
    with pytest.raises(ValidationError) as excinfo:
        services.revenue_model_save(product=product, data={"currency": "E1R"})
    assert set(excinfo.value.message_dict) == {"currency"}
    assert not RevenueModel.objects.exists()


def test_price_plans_add_edit_delete_and_refuse_foreign_personas(editor_client, product):
    persona = f.PersonaFactory(product=product)
    stranger = f.PersonaFactory()
    add_url = reverse("roadmap:price_plan_add", args=[product.slug])

    added = editor_client.post(
        add_url, {"name": "Team", "yearly_price": "1200", "persona": persona.pk}
    )
    foreign = editor_client.post(
        add_url, {"name": "Other", "yearly_price": "10", "persona": stranger.pk}
    )
    negative = editor_client.post(add_url, {"name": "Free", "yearly_price": "-1"})
    plan = PricePlan.objects.get()
    edited = editor_client.post(
        reverse("roadmap:price_plan_edit", args=[product.slug, plan.pk]),
        {"name": "Team+", "yearly_price": "1500", "persona": "", "conversion_rate": "4"},
    )
    plan.refresh_from_db()

    assert added.status_code == 302 and edited.status_code == 302
    assert foreign.status_code == 400 and negative.status_code == 400
    assert "A price cannot be negative." in negative.content.decode()
    assert (plan.name, plan.yearly_price, plan.persona, plan.conversion_rate) == (
        "Team+",
        D("1500"),
        None,
        D("4"),
    )
    deleted = editor_client.post(reverse("roadmap:price_plan_delete", args=[product.slug, plan.pk]))
    assert deleted.status_code == 302 and not PricePlan.objects.exists()


def test_price_plan_service_refuses_another_products_persona(product):
    with pytest.raises(ValidationError) as excinfo:
        services.price_plan_save(
            product=product,
            data={"name": "X", "yearly_price": D("1"), "persona": f.PersonaFactory()},
        )
    assert set(excinfo.value.message_dict) == {"persona"}


# --- Charts (pure) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (0, [0.0, 1.0]),
        (7, [0.0, 2.0, 4.0, 6.0, 8.0]),
        (180_000, [0.0, 50_000.0, 100_000.0, 150_000.0, 200_000.0]),
        (1000, [0.0, 250.0, 500.0, 750.0, 1000.0]),
    ],
)
def test_nice_ticks(maximum, ticks):
    assert charts.nice_ticks(maximum) == ticks


def test_short_numbers():
    assert [charts.short_number(v) for v in (0, 950, 1500, 250_000, 1_200_000)] == [
        "0",
        "950",
        "1.5k",
        "250k",
        "1.2M",
    ]


def test_bar_chart_geometry_is_proportional_and_inside_the_plot():
    chart = charts.bar_chart(["Q1", "Q2"], [("Revenue", [100, 50]), ("Cost", [0, 25])])

    revenue_q1, cost_q1, revenue_q2, cost_q2 = chart.bars
    assert revenue_q1.height == pytest.approx(2 * revenue_q2.height)
    assert revenue_q2.height == pytest.approx(2 * cost_q2.height)
    assert cost_q1.height == 0 and cost_q1.y == chart.baseline
    assert all(b.y + b.height == pytest.approx(chart.baseline) for b in chart.bars)
    assert all(charts.LEFT <= b.x and b.x + b.width <= chart.right_edge for b in chart.bars)
    assert revenue_q1.y == chart.ticks[-1].y  # 100 is the top tick
    assert [c.label for c in chart.categories] == ["Q1", "Q2"]
    assert chart.series == ("Revenue", "Cost")
    assert revenue_q1.label == "Q1 revenue: 100"


def test_line_chart_points_follow_the_values():
    chart = charts.line_chart(["Q1", "Q2", "Q3"], [("Revenue", [0, 50, 100])])

    (line,) = chart.lines
    ys = [y for _, y, _ in line.markers]
    assert ys[0] == chart.baseline and ys[2] == chart.ticks[-1].y
    assert ys[1] == pytest.approx((ys[0] + ys[2]) / 2)
    assert line.points.count(",") == 3
