"""Scale: the app's connections run without JIT, a small product's pages and API read through
an index that leads with the product (or the product's workspace) while another workspace holds
a large product, and `manage.py bench_scale` measures the series (on PostgreSQL only)."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from accounts.tokens import api_token_issue
from roadmap.counts import COUNT_CAP, CountAtLeast
from roadmap.demo.load import scale_features_load
from roadmap.models import Feature, Product, RoadmapItem
from tests import factories as f
from tests.test_settings import _settings

postgres_only = pytest.mark.services
SCAN = re.compile(r"(?:Bitmap Index|Index Only|Index) Scan(?: Backward)? (?:using|on) (\w+)")


def _plan(sql: str, *off: str) -> str:
    """The plan of ``sql`` as at scale. The test tables hold thousands of rows, where a sequential
    scan is cheapest and the estimates follow whatever earlier tests left in the statistics
    (ANALYZE's row counts outlive a rolled-back test); with sequential scans priced out, the
    plan shows the index the planner takes when the table is large — or a Seq Scan still, when
    no index can serve the query. ``off``: other plan nodes priced out too."""
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_seqscan", *off):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _indexes_leading_with(table: str, column: str) -> set[str]:
    """The indexes of ``table`` whose first column is ``column``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0] "
            "WHERE x.indrelid = %s::regclass AND a.attname = %s",
            [table, column],
        )
        return {row[0] for row in cursor.fetchall()}


def _indexes_of(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


def _feature_scans(plan: str) -> set[str]:
    """The indexes of roadmap_feature the plan reads through."""
    return set(SCAN.findall(plan)) & _indexes_of("roadmap_feature")


def _feature_selects(captured, product: Product) -> list[str]:
    """The request's SELECTs that read features of ``product`` (by id or through its slug)."""
    return [
        q["sql"]
        for q in captured
        if q["sql"].startswith("SELECT")
        and 'FROM "roadmap_feature"' in q["sql"]
        and (f'"product_id" = {product.pk}' in q["sql"] or f"'{product.slug}'" in q["sql"])
    ]


@pytest.fixture
def crowded(db):
    """A product of 30 features in one workspace, while another workspace holds one of 3,000
    features and 300 other products (analyzed, so the planner knows)."""
    crowd = f.WorkspaceFactory()
    Product.objects.bulk_create(
        Product(workspace=crowd, name=f"Product {i}", slug=f"product-{i}") for i in range(300)
    )
    scale_features_load(workspace=crowd, count=3000)  # analyzes roadmap_feature
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE roadmap_product")
    workspace = f.WorkspaceFactory()
    product = scale_features_load(workspace=workspace, count=30).product
    pm = f.MembershipFactory(workspace=workspace, role=Role.EDITOR).user
    return product, pm


@postgres_only
def test_the_apps_connections_run_without_jit(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_postgres_connections_turn_jit_off_keeping_the_options_of_database_url():
    options = "settings.DATABASES['default']['OPTIONS']"
    url = "postgres://waymark@db.internal/roadmaps"

    plain = _settings(options, DEBUG="1", DATABASE_URL=url)
    with_options = _settings(
        options, DEBUG="1", DATABASE_URL=f"{url}?options=-c%20statement_timeout%3D5000"
    )
    sqlite = _settings(options, DEBUG="1", DATABASE_URL="sqlite:///db.sqlite3")

    assert plain == {"connect_timeout": 5, "options": "-c jit=off"}
    assert with_options == {
        "connect_timeout": 5,
        "options": "-c statement_timeout=5000 -c jit=off",
    }
    assert "options" not in sqlite


@postgres_only
def test_the_table_first_page_of_a_small_product_reads_through_a_product_index(crowded):
    product, pm = crowded
    client = Client()
    client.force_login(pm)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/products/{product.slug}/")

    assert response.status_code == 200
    product_indexes = _indexes_leading_with("roadmap_feature", "product_id")
    selects = _feature_selects(captured, product)
    assert selects
    for sql in selects:
        plan = _plan(sql)
        assert "Seq Scan on roadmap_feature" not in plan, plan
        scans = _feature_scans(plan)
        assert scans and scans <= product_indexes, plan


@postgres_only
def test_the_api_features_list_of_a_small_product_reads_through_a_product_index(crowded):
    product, pm = crowded
    _, raw = api_token_issue(user=pm, workspace=product.workspace, name="plans")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/features/?product={product.slug}")

    assert response.status_code == 200 and response.json()["count"] == 30
    product_indexes = _indexes_leading_with("roadmap_feature", "product_id")
    selects = _feature_selects(captured, product)
    assert len(selects) == 2  # the page's count and its rows
    for sql in selects:
        plan = _plan(sql)
        assert "Seq Scan on roadmap_feature" not in plan, plan
        scans = _feature_scans(plan)
        assert scans and scans <= product_indexes, plan


@postgres_only
def test_the_api_features_list_of_a_workspace_leads_with_the_products_workspace(crowded):
    product, pm = crowded
    _, raw = api_token_issue(user=pm, workspace=product.workspace, name="plans")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/features/")

    assert response.status_code == 200 and response.json()["count"] == 30
    rows = next(
        q["sql"]
        for q in captured
        if q["sql"].startswith('SELECT "roadmap_feature"."id"') and "LIMIT" in q["sql"]
    )
    plan = _plan(rows)
    assert "Seq Scan on roadmap_feature" not in plan, plan
    assert _feature_scans(plan) <= _indexes_leading_with("roadmap_feature", "product_id")
    workspace_indexes = _indexes_leading_with("roadmap_product", "workspace_id")
    assert any(
        f"using {name} on roadmap_product" in plan or f"on {name}" in plan
        for name in workspace_indexes
    ), plan


@postgres_only
def test_the_home_pages_top_features_walk_the_product_rank_index(crowded):
    product, pm = crowded
    client = Client()
    client.force_login(pm)

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")

    assert response.status_code == 200
    top = [q["sql"] for q in captured if "CROSS JOIN LATERAL" in q["sql"]]
    assert len(top) == 1
    plan = _plan(top[0])
    assert "Seq Scan on roadmap_feature" not in plan, plan
    assert "WindowAgg" not in plan, plan  # no ranking of every ranked feature
    assert _feature_scans(plan) == {"feature_product_rank"}, plan
    assert re.search(r"Limit.*\n.*(Incremental Sort|Index Scan using feature_product_rank)", plan)


@postgres_only
def test_bench_scale_prints_each_request_with_its_floor_and_the_series(db):
    out = StringIO()
    call_command(
        "bench_scale",
        "--sizes",
        "120",
        "240",
        "--repeat",
        "1",
        "--budget",
        "0",
        "--subscribers",
        "4",
        stdout=out,
    )
    output = out.getvalue()

    line = re.compile(
        r"^(?P<request>.+?)\s+(?P<size>\S+(?: subs)?): +[\d.]+ ms +(?P<queries>\d+) queries +"
        r"\d+ KB  floor +[\d.]+ ms  ratio +[\d.]+"
    )
    measured = [m.groupdict() for m in map(line.match, output.splitlines()) if m]
    by_request = {}
    for m in measured:
        by_request.setdefault(m["request"].strip(), []).append(m["size"])
    assert by_request == {
        "API features list, 100-feature product": ["before", "120", "240"],
        "prioritization table, first page": ["120", "240"],
        "edit one input in the table": ["120", "240"],
        "GET priorities, first page": ["120", "240"],
        "board": ["120", "240"],
        'table, "Show all"': ["120", "240"],
        "home page": ["120", "240"],
        "enqueue due digests": ["4 subs"],
    }
    assert all(int(m["queries"]) > 0 for m in measured)
    assert "| request | 120 | 240 | growth | ratio to floor |" in output
    sizes = {
        slug: Feature.objects.filter(product__workspace__slug=slug).count()
        for slug in ("bench-scale-120", "bench-scale-240", "bench-scale-small")
    }
    assert sizes == {"bench-scale-120": 120, "bench-scale-240": 240, "bench-scale-small": 100}


def test_bench_scale_refuses_sqlite(db):
    if connection.vendor != "sqlite":
        pytest.skip("the refusal is SQLite's")
    with pytest.raises(CommandError, match="bench_scale measures PostgreSQL's plans"):
        call_command("bench_scale", "--sizes", "10", stdout=StringIO())


def _page_requests(product: Product) -> dict[str, tuple[str, str, dict]]:
    """The pages and endpoints that show a bounded number of a product's rows."""
    first = Feature.objects.filter(product=product).order_by("rank").first()
    shown = ",".join(
        str(pk)
        for pk in Feature.objects.filter(product=product)
        .order_by("rank")
        .values_list("pk", flat=True)[:50]
    )
    return {
        "table, first page": ("page", f"/products/{product.slug}/", {}),
        "table, edit one input": (
            "edit",
            f"/products/{product.slug}/table/{first.pk}/edit/",
            {"confidence": str(max(0, first.confidence - 10)), "shown": shown},
        ),
        "priorities, first page": ("api", f"/api/v1/products/{product.slug}/priorities/", {}),
        "board": ("page", f"/products/{product.slug}/board/", {}),
        "home page": ("page", "/", {}),
    }


def _request(kind: str, url: str, data: dict, product: Product, clients: dict):
    if kind == "api":
        return clients["api"].get(url)
    if kind == "edit":
        feature = Feature.objects.get(pk=int(url.rstrip("/").split("/")[-2]))
        headers = {
            "HX-Request": "true",
            "HX-Trigger-Name": "confidence",
            "HX-Current-URL": f"http://testserver/products/{product.slug}/",
        }
        return clients["page"].post(url, {**data, "version": feature.version}, headers=headers)
    return clients["page"].get(url)


def _queries(name: str, product: Product, clients: dict) -> list[dict]:
    """The queries of the request ``name`` (after one run of it: what a first request caches)."""
    _request(*_page_requests(product)[name], product, clients)
    with CaptureQueriesContext(connection) as captured:
        response = _request(*_page_requests(product)[name], product, clients)
    assert response.status_code == 200, response.content[:500]
    return captured.captured_queries


def _board_queries(crowded) -> list[dict]:
    """The board's queries, in a product of 300 features with 30 on the board (analyzed)."""
    from roadmap.management.commands.bench_scale import _board_items_load

    product, pm = crowded
    scale_features_load(workspace=product.workspace, count=300)
    _board_items_load(product, 30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE roadmap_roadmapitem")
    client = Client()
    client.force_login(pm)
    return _queries("board", product, {"page": client})


@postgres_only
@pytest.mark.parametrize(
    "name",
    [
        "table, first page",
        "table, edit one input",
        "priorities, first page",
        "board",
        "home page",
    ],
)
def test_each_bounded_page_reads_through_product_indexes_in_the_same_queries_at_ten_times_the_size(
    crowded, name
):
    """Issue 20's "done when": no SELECT of the product's features scans the table or an index
    that does not lead with the product (the primary key for rows named by id), and the page
    runs the same queries for a product of 150 features (more than a page) and of 1,500."""
    from roadmap.management.commands.bench_scale import _board_items_load

    product, pm = crowded
    _board_items_load(product, 3)
    _, token = api_token_issue(user=pm, workspace=product.workspace, name="plans")
    clients = {"api": Client(HTTP_AUTHORIZATION=f"Bearer {token}"), "page": Client()}
    clients["page"].force_login(pm)
    allowed = _indexes_leading_with("roadmap_feature", "product_id") | {"roadmap_feature_pkey"}

    selects = _feature_selects(_queries(name, product, clients), product)
    assert selects or name == "home page"
    for sql in selects:
        plan = _plan(sql)
        assert "Seq Scan on roadmap_feature" not in plan, plan
        assert _feature_scans(plan) <= allowed, plan

    counts = []
    for size in (150, 1500):
        scale_features_load(workspace=product.workspace, count=size)
        _board_items_load(product, size // 10)
        counts.append(len(_queries(name, product, clients)))
    assert counts[0] == counts[1]


@postgres_only
def test_the_boards_cards_are_read_cell_by_cell_through_the_cell_index(crowded):
    """The board reads each cell's first cards through ``item_cell_order`` (a Limit per cell),
    not every item of the product through a window function."""
    product, _ = crowded
    queries = _board_queries(crowded)

    items = [q["sql"] for q in queries if 'FROM "roadmap_roadmapitem"' in q["sql"]]
    cards = [sql for sql in items if "UNION ALL" in sql and "count(*)" not in sql]
    assert len(cards) == 1, items
    plan = _plan(cards[0])
    assert "WindowAgg" not in plan, plan
    assert "Seq Scan on roadmap_roadmapitem" not in plan, plan
    # One bounded read per cell that holds items: a Limit under each cell's scan. (On 1M
    # features that is an Index Only Scan of item_cell_order per cell, twenty rows read: 12 ms
    # for the board's 300 cards where the window took 2.5 s. A test table this small may take
    # another index of the product's items.)
    cells = RoadmapItem.objects.filter(product=product).values("lane", "horizon").distinct()
    lines = plan.splitlines()
    subqueries = [i for i, line in enumerate(lines) if "Subquery Scan on cell_" in line]
    assert len(subqueries) == cells.count() > 3, plan
    assert all("Limit" in lines[i + 1] for i in subqueries), plan


@postgres_only
def test_the_home_pages_item_counts_read_through_indexes_that_lead_with_the_product(crowded):
    """The home page's counts read the product's items through indexes that lead with the
    product (or by id). On the bench's database (1M features) the overdue count was a sequential
    scan of every product's items until ``item_product_end``; a test table this small finds a
    product index either way, so this guards the shape, EXPLAIN on the bench showed the cause."""
    from roadmap.management.commands.bench_scale import _board_items_load

    product, pm = crowded
    _board_items_load(product, 3)
    # The large product of the other workspace has 300 items on its board (100 in "now"), and
    # the planner knows it: an index of every product's items in "now" is no shortcut here.
    large = Product.objects.exclude(workspace=product.workspace).get(slug=product.slug)
    _board_items_load(large, 300)  # (and analyzes the items)
    client = Client()
    client.force_login(pm)
    # Or by the feature, for an item reached from one of the product's features.
    allowed = _indexes_leading_with("roadmap_roadmapitem", "product_id") | {
        "roadmap_roadmapitem_pkey",
        "roadmap_roadmapitem_feature_id_key",
    }

    queries = _queries("home page", product, {"page": client})

    counts = [q["sql"] for q in queries if "overdue_count" in q["sql"]]
    assert len(counts) == 1
    plan = _plan(counts[0])
    assert "Seq Scan on roadmap_roadmapitem" not in plan, plan
    scans = set(SCAN.findall(plan)) & _indexes_of("roadmap_roadmapitem")
    assert scans and scans <= allowed, plan


@postgres_only
def test_the_boards_cell_counts_are_capped_reads_of_the_cell_index(crowded):
    """The board counts each cell (every lane and "No lane" by horizon) with a read that stops
    past ``CELL_COUNT_CAP`` more than the cell shows, through ``item_cell_order``: not a GROUP BY
    of every item of the product (41 ms at 1M features), whatever the product holds."""
    from roadmap.planning.selectors import planning

    product, _ = crowded
    queries = _board_queries(crowded)

    items = [q["sql"] for q in queries if 'FROM "roadmap_roadmapitem"' in q["sql"]]
    counts = [sql for sql in items if "count(*)" in sql]
    assert len(counts) == 1, items
    assert "GROUP BY" not in counts[0].upper()
    cap = planning.CELL_CARDS + planning.CELL_COUNT_CAP
    assert f"LIMIT {cap + 1}" in counts[0]
    plan = _plan(counts[0])
    assert "Seq Scan on roadmap_roadmapitem" not in plan, plan
    # One bounded read per cell, shown or empty: the lanes and "No lane", by horizon.
    cells = (product.lanes.count() + 1) * 3
    lines = plan.splitlines()
    limits = [i for i, line in enumerate(lines) if line.strip().startswith("->  Limit")]
    assert len(limits) == cells, plan
    # Under each Limit, an index of the product's items or of one of its lanes (on the bench's
    # 1M features an Index Only Scan of item_cell_order; a table this small may take another).
    product_indexes = _indexes_leading_with(
        "roadmap_roadmapitem", "product_id"
    ) | _indexes_leading_with("roadmap_roadmapitem", "lane_id")
    for start, end in zip(limits, [*limits[1:], len(lines)], strict=True):
        under = "\n".join(lines[start:end])
        scans = set(SCAN.findall(under))
        assert scans and scans <= product_indexes, under


@postgres_only
def test_the_home_pages_undated_now_count_reads_at_most_its_cap_of_items(crowded):
    """The undated-"now" warning reads an item's feature for each item it counts (is it open?):
    it stops after ``HEALTH_CAP + 1`` of them, however many the product has in "now" (at 1M
    features it read 10,001 items and their features: 0.3 s), and says "100+"."""
    from roadmap.planning.selectors.pages import HEALTH_CAP

    product, pm = crowded
    scale_features_load(workspace=product.workspace, count=400)
    features = Feature.objects.filter(product=product)
    RoadmapItem.objects.bulk_create(
        RoadmapItem(product=product, feature=feature, horizon="now", position=n)
        for n, feature in enumerate(features)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE roadmap_roadmapitem")
    client = Client()
    client.force_login(pm)

    queries = _queries("home page", product, {"page": client})

    counts = [q["sql"] for q in queries if "undated_now_count" in q["sql"]]
    assert len(counts) == 1
    assert f"LIMIT {HEALTH_CAP + 1}" in counts[0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {counts[0]}")
        plan = cursor.fetchone()[0]

    def limits(node):
        if node.get("Node Type") == "Limit":
            yield node
        for child in node.get("Plans", ()):
            yield from limits(child)

    read = [node["Actual Rows"] for node in limits(plan[0]["Plan"])]
    # The product holds more open undated items in now than the cap: that count stopped at it.
    assert HEALTH_CAP + 1 in read, read
    response = client.get("/")
    assert f"{HEALTH_CAP}+ items in Now without dates" in response.content.decode()


@postgres_only
def test_the_counts_of_a_product_holding_most_rows_read_its_indexes(crowded):
    """The features of a product of most of the table's rows (12,000 of 12,030 here; 1M of
    1.1M on the bench) are counted through the (product, rank) index, in its order: without
    one, the planner takes "the first 10,001 rows of this product" for cheap by a sequential
    scan, which reads every other product's rows on the way (15 ms at 1M, a third of the home
    page; the table's count likewise). At this size the planner still sorts a sequential scan
    or a bitmap of every row, so the plan is read as at scale (``_plan``). (The items are not
    ordered: below the cap, an order made the planner sort every item, 8 ms at 100k.)"""
    from roadmap.management.commands.bench_scale import _board_items_load
    from roadmap.planning.selectors.pages import HOME_COUNTS, _product_counts

    large = Product.objects.exclude(workspace=crowded[0].workspace).get(slug=crowded[0].slug)
    # Past the cap, where "the first 10,001 of them" is what the planner prices.
    scale_features_load(workspace=large.workspace, count=COUNT_CAP + 2000)  # and analyzes
    _board_items_load(large, 1200)  # and analyzes the items

    with CaptureQueriesContext(connection) as captured:
        counts = _product_counts([large.pk], today=timezone.localdate())[large.pk]
    # Priced as at scale: the order is the index's, so no sort and no bitmap of every row.
    plan = _plan(captured.captured_queries[-1]["sql"], "enable_bitmapscan", "enable_sort")

    assert (counts["feature_count"], counts["item_count"]) == (CountAtLeast(COUNT_CAP), 1200)
    # A count a subplan, in the order of HOME_COUNTS.
    subplans = dict(zip(HOME_COUNTS, plan.split("Aggregate")[1:], strict=True))
    assert "Only Scan using feature_product_rank" in subplans["feature_count"], plan

    # The table's count of the product's features, likewise.
    pm = f.MembershipFactory(workspace=large.workspace, role=Role.EDITOR).user
    client = Client()
    client.force_login(pm)
    queries = _queries("table, first page", large, {"page": client})
    total = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")][0]
    plan = _plan(total, "enable_bitmapscan", "enable_sort")
    assert "Only Scan using feature_product_rank on roadmap_feature" in plan, plan
