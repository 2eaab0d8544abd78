# ruff: noqa: E501 — prose reads better unwrapped
"""The demo's strategy and launch: Northwind Insight's positioning (citing real demo insights),
two competitors with a comparison grid, its market size, revenue model and plans; the workspace's
launch checklist template; and the Insight 4.3 release with a checklist partly done, ready to be
walked to "shipped".

Written through the services, as a PM would, so the positioning and checklist have a history.
Loaded with the product (and the template with the workspace): see ``roadmap.demo.load``.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from accounts.models import User, Workspace
from roadmap.models import Feature, Insight, Lane, Persona, Product, Release
from roadmap.strategy.services import launch, strategy

# Insights are named by their customer and the start of what they said.
POSITIONING = {
    "product": "northwind-insight",
    "show_to_investors": True,
    "show_to_executives": True,
    "answers": (
        {
            "question": "market_gap",
            "text": "Field operations run on data nobody reads in time. BI tools are built for analysts at head office; field-service suites report on yesterday in slides. Nobody gives **the operations leader** a daily, trustworthy view of jobs, SLAs and costs without an analyst in between.",
            "insights": (
                ("Meridian Utilities", "We found out"),
                ("Atlas Cold Chain", "If you could tell me"),
            ),
            "personas": ("Operations Director",),
        },
        {
            "question": "customer_pains",
            "text": "- Problems surface through escalations and regulators, not dashboards.\n- Analysts export to Excel just to see the jobs behind a number.\n- Depot managers cannot be given access without seeing everyone's data.",
            "insights": (
                ("Bluepeak Logistics", "I export the late-jobs"),
                ("Meridian Utilities", "Depot managers shouldn't"),
                ("Crestline Foods", "Is there a way"),
            ),
            "personas": ("Operations Director", "Depot Manager", "Business Analyst"),
        },
        {
            "question": "problem",
            "text": "Knowing by 9 a.m. what went wrong yesterday and what will go wrong this week — per region, per depot, per contract.",
            "insights": (("Zephyr Wind Services", "Last week's turbine"),),
            "personas": ("Operations Director",),
        },
        {
            "question": "solution",
            "text": "Insight sits on the job data customers already send to Northwind: threshold alerts on any KPI, regional access control so every depot sees its own numbers, and metrics defined once (cost per job, first-time fix) used everywhere.",
            "insights": (
                ("Orchard Telecom", "Procurement checklist"),
                ("Pinecrest Water", "Cost per job"),
            ),
            "personas": ("Depot Manager", "Finance Controller"),
        },
        {
            "question": "competitor_sentiment",
            "text": "Teams on Fieldlytics like its dashboards but call it “another BI project”: weeks of setup and an analyst to keep it alive. OpsBoard is cheap and quick, but has no regional permissions, which fails enterprise procurement.",
            "insights": (
                ("Bluepeak Logistics", "Region-level access"),
                ("Vantage HVAC", "Templates for HVAC"),
            ),
            "personas": (),
        },
        {
            "question": "differentiation",
            "text": "Built on Northwind's field data model, so it works on day one; the only tool in the category with **SLA-breach forecasting** and row-level permissions by region.",
            "insights": (("Lumen Facilities", "I'd pay for something"),),
            "personas": ("Operations Director",),
        },
        {
            "question": "standout",
            "text": "The Monday answer: which contracts will breach their SLA by Friday, and why.",
            "insights": (("Atlas Cold Chain", "If you could tell me"),),
            "personas": (),
        },
    ),
}

COMPETITORS = (
    {
        "name": "Fieldlytics",
        "website": "https://fieldlytics.example",
        "segment": "Enterprise field service, sold with implementation partners",
        "strengths": "Polished dashboards; large connector library; strong with CIOs.",
        "weaknesses": "Weeks of setup; needs an analyst to maintain; no forecasting.",
        "pricing_notes": "€45k/year platform fee plus €900 per editor seat; services extra.",
    },
    {
        "name": "OpsBoard",
        "website": "https://opsboard.example",
        "segment": "SMB and mid-market home services",
        "strengths": "Self-serve trial; cheap; templates for common trades.",
        "weaknesses": "No regional permissions; email-only alerts; weak exports.",
        "pricing_notes": "$29 per user per month, annual billing.",
    },
)
# (feature key, market position, {competitor: (status, note)})
COMPARISON = (
    (
        "alerts",
        "differentiator",
        {"Fieldlytics": ("partial", "Daily digest only"), "OpsBoard": ("has", "Email only")},
    ),
    (
        "rls",
        "differentiator",
        {"Fieldlytics": ("has", ""), "OpsBoard": ("missing", "Fails enterprise procurement")},
    ),
    ("forecast", "differentiator", {"Fieldlytics": ("missing", ""), "OpsBoard": ("missing", "")}),
    (
        "metrics",
        "parity",
        {"Fieldlytics": ("better", "Formula editor with SQL"), "OpsBoard": ("partial", "")},
    ),
    ("drill", "parity", {"Fieldlytics": ("has", ""), "OpsBoard": ("worse", "First 500 rows only")}),
    ("schedule", "parity", {"Fieldlytics": ("has", ""), "OpsBoard": ("has", "")}),
    ("excel", "parity", {"Fieldlytics": ("has", ""), "OpsBoard": ("worse", "CSV only")}),
)
# (theme, {competitor: (status, note)})
THEME_COMPARISON = (
    ("Alerting & reporting", {"Fieldlytics": ("partial", ""), "OpsBoard": ("has", "")}),
    (
        "Data & governance",
        {
            "Fieldlytics": ("better", "SOC 2 Type II and data residency"),
            "OpsBoard": ("missing", ""),
        },
    ),
)
# (kind, value, source, source url, days ago, notes)
MARKET_SIZES = (
    (
        "tam",
        "4200000000",
        "Field Service Analytics Market Report 2025",
        "https://research.example/fsa-2025",
        190,
        "Global spend on analytics for field operations.",
    ),
    (
        "sam",
        "610000000",
        "Northwind estimate from the report's EU and North America utilities, logistics and facilities segments",
        "",
        120,
        "Companies with 200+ field staff in our regions.",
    ),
    (
        "som",
        "18000000",
        "Bottom-up: Northwind Field customers × attach rate of 35%",
        "",
        40,
        "Three-year target.",
    ),
    (
        "tam",
        "3600000000",
        "Field Service Analytics Market Report 2024",
        "https://research.example/fsa-2024",
        560,
        "",
    ),
)
REVENUE_MODEL = {
    "currency": "EUR",
    "conversion_rate": "3",
    "notes": "Conversion from the last two years of Field upsell campaigns.",
}
# (name, yearly price, persona or None, conversion override or None)
PLANS = (
    ("Depot", "1800", "Depot Manager", None),
    ("Operations", "12000", "Operations Director", "5"),
    ("Finance add-on", "4800", "Finance Controller", "2"),
)

# The workspace's launch checklist template: (team, title, days before the release, description).
TEMPLATE = (
    (
        "engineering",
        "Feature freeze and regression pass",
        10,
        "Only fixes after this; full regression on staging.",
    ),
    ("engineering", "Production rollout plan and feature flags", 3, ""),
    ("design", "Final UI review with product", 14, ""),
    ("marketing", "Launch blog post", 2, "Draft reviewed by the PM and one customer."),
    ("marketing", "Customer newsletter", 0, ""),
    ("sales", "Battlecard against competitors", 7, "Use the comparison grid on the Strategy tab."),
    ("sales", "Demo script update", 5, ""),
    ("support", "Support team training", 5, ""),
    ("support", "Help-centre macros", 2, ""),
    ("documentation", "Release notes", 1, ""),
    ("documentation", "Update the admin guide", 3, ""),
)
LAUNCH = {
    "product": "northwind-insight",
    "release": "Insight 4.3",
    # Template tasks already done, and who did them; owners by team.
    "done": {
        "Feature freeze and regression pass": "priya",
        "Final UI review with product": "dana",
        "Battlecard against competitors": "dana",
        "Support team training": "priya",
        "Update the admin guide": "priya",
    },
    "owners": {
        "engineering": "priya",
        "design": "dana",
        "marketing": "dana",
        "sales": "dana",
        "support": "priya",
        "documentation": "priya",
    },
}


def launch_template_create(*, workspace: Workspace, admin: User) -> int:
    """The workspace's launch checklist template; returns the tasks created."""
    for position, (team, title, days, description) in enumerate(TEMPLATE):
        launch.launch_template_task_save(
            workspace=workspace,
            data={
                "team": team,
                "title": title,
                "days_before_release": days,
                "description": description,
                "position": position,
            },
            actor=admin,
        )
    return len(TEMPLATE)


def _insight(product: Product, customer: str, start: str) -> Insight:
    return Insight.objects.get(product=product, customer=customer, text__startswith=start)


def strategy_create(
    *, product: Product, users: dict[str, User], today: date, keys: dict[str, Feature]
) -> dict[str, int]:
    """Northwind Insight's strategy and the launch of its next release, if ``product`` is the one
    the demo describes; the rows created, by kind. ``keys``: the product's features by key."""
    if product.slug != POSITIONING["product"]:
        return {}
    pm = users["dana"]
    personas = {p.name: p for p in Persona.objects.filter(product=product)}
    for answer in POSITIONING["answers"]:
        strategy.positioning_answer_save(
            product=product,
            question=answer["question"],
            text=answer["text"],
            insights=[_insight(product, *cited) for cited in answer["insights"]],
            personas=[personas[name] for name in answer["personas"]],
            actor=pm,
        )
    strategy.positioning_set_audiences(
        product=product,
        show_to_investors=POSITIONING["show_to_investors"],
        show_to_executives=POSITIONING["show_to_executives"],
        actor=pm,
    )

    competitors = {
        spec["name"]: strategy.competitor_save(product=product, data=spec) for spec in COMPETITORS
    }
    for key, position, cells in COMPARISON:
        # A PM's marking, without a re-rank per feature: the loader ranks the product once.
        Feature.objects.filter(pk=keys[key].pk).update(market_position=position)
        for name, (status, note) in cells.items():
            strategy.comparison_set(
                competitor=competitors[name], feature=keys[key], status=status, note=note
            )
    lanes = {lane.name: lane for lane in Lane.objects.filter(product=product)}
    for theme, cells in THEME_COMPARISON:
        for name, (status, note) in cells.items():
            strategy.comparison_set(
                competitor=competitors[name], lane=lanes[theme], status=status, note=note
            )

    for kind, value, source, url, days_ago, notes in MARKET_SIZES:
        strategy.market_size_save(
            product=product,
            data={
                "kind": kind,
                "value": Decimal(value),
                "source": source,
                "source_url": url,
                "as_of": today - timedelta(days=days_ago),
                "notes": notes,
            },
        )
    strategy.revenue_model_save(
        product=product,
        data={
            "currency": REVENUE_MODEL["currency"],
            "conversion_rate": Decimal(REVENUE_MODEL["conversion_rate"]),
            "notes": REVENUE_MODEL["notes"],
        },
        actor=pm,
    )
    for name, price, persona, rate in PLANS:
        strategy.price_plan_save(
            product=product,
            data={
                "name": name,
                "yearly_price": Decimal(price),
                "persona": personas[persona] if persona else None,
                "conversion_rate": Decimal(rate) if rate else None,
            },
        )

    tasks = _launch_create(product=product, users=users)
    return {
        "positioning answers": len(POSITIONING["answers"]),
        "competitors": len(COMPETITORS),
        "comparisons": sum(len(c) for _, _, c in COMPARISON)
        + sum(len(c) for _, c in THEME_COMPARISON),
        "market sizes": len(MARKET_SIZES),
        "price plans": len(PLANS),
        "launch tasks": tasks,
    }


def _launch_create(*, product: Product, users: dict[str, User]) -> int:
    """The release's checklist from the workspace's template (none when the workspace has no
    template), with owners, some of it done."""
    release = Release.objects.get(product=product, name=LAUNCH["release"])
    if not product.workspace.launch_template_tasks.exists():
        return 0
    tasks = launch.release_checklist_create(release=release)
    for task in tasks:
        launch.launch_task_save(
            release=release,
            task=task,
            data={"owner": users[LAUNCH["owners"][task.team]]},
            actor=users["dana"],
        )
        done_by = LAUNCH["done"].get(task.title)
        if done_by:
            launch.launch_task_complete(task=task, actor=users[done_by])
    return len(tasks)
