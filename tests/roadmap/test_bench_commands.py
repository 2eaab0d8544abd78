"""`make bench` on a small scale, so the benchmark commands keep working as the code changes."""

import re
from io import StringIO

from django.core.management import call_command

from roadmap.models import Feature, Subscription, Vote


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bench_digests_builds_every_digest_with_queries_that_do_not_grow(db):
    output = _run("bench_digests", "--subscribers", "12", "--sample", "5")

    assert "12 subscribers of one share link" in output
    assert Subscription.objects.filter(share_link__product__slug="bench-digests").count() == 12
    windows = re.findall(
        r"(\d+) events, (\d+) told to customers, timed over (\d+) subscribers: [\d.]+ ms per "
        r"digest; queries: (\d+) for the first digest of the window, (\d+) for each other",
        output,
    )
    assert windows == [("50", "35", "12", "2", "1"), ("500", "350", "5", "2", "1")]
    assert len(re.findall(r"ratio digest / lower bound: \d+\.\d\d", output)) == 2


def test_bench_digests_reuses_what_an_earlier_run_seeded(db):
    _run("bench_digests", "--subscribers", "3", "--sample", "2")
    output = _run("bench_digests", "--subscribers", "5", "--sample", "2")

    assert "5 subscribers of one share link" in output
    assert Subscription.objects.filter(share_link__product__slug="bench-digests").count() == 5


def test_bench_scores_and_bench_api_run(db):
    scores = _run("bench_scores", "--features", "40", "--repeat", "1")
    api = _run("bench_api", "--features", "20", "--repeat", "1")

    assert "product has 40 features" in scores and "ratio recompute / lower bound" in scores
    assert "same scores as the raw UPDATE on all 40 features" in scores
    assert "ratio custom recompute / lower bound" in scores
    assert Feature.objects.filter(product__slug="bench-scores").exclude(rank=None).exists()
    assert "20 features" in api and "ratio endpoint / lower bound" in api
    assert int(re.search(r"(\d+) queries per request", api).group(1)) > 0


def test_bench_pages_times_each_page_against_its_own_queries(db):
    output = _run("bench_pages", "--features", "60", "--repeat", "1")

    for page in ("table (first 50 rows)", "table (every row)", "board (every feature"):
        line = next(x for x in output.splitlines() if page in x)
        queries = int(re.search(r"(\d+) queries", line).group(1))
        assert queries > 0 and "its queries as raw SQL" in line
    assert output.count("ratio page / lower bound") == 3


def test_bench_pages_times_the_table_with_custom_fields_and_deletes_them(db):
    from roadmap.models import CustomField

    output = _run("bench_pages", "--features", "30", "--repeat", "1", "--custom-fields")

    assert output.count("ratio page / lower bound") == 5
    line = next(x for x in output.splitlines() if "filtered by 2 custom fields" in x)
    assert int(re.search(r"(\d+) queries", line).group(1)) > 0
    assert not CustomField.objects.exists()


def test_bench_portal_renders_the_feedback_page_in_the_same_queries_at_two_sizes(db):
    """The issue's size is 500 items and 50,000 votes; here 6 and 60, then 30 and 900."""
    small = _run("bench_portal", "--items", "6", "--votes", "60", "--repeat", "1")
    large = _run("bench_portal", "--items", "30", "--votes", "900", "--repeat", "1")

    pattern = r"feedback page: (\d+) queries, \d+ KB, [\d.]+ ms; its queries as raw SQL: [\d.]+ ms"
    assert "6 external items, 60 votes" in small
    assert "30 external items, 900 votes" in large
    assert re.search(pattern, small).group(1) == re.search(pattern, large).group(1)
    assert re.search(
        r"a vote \(remembered stakeholder\): [\d.]+ ms median of 1, (\d+) queries", large
    )
    assert Vote.objects.filter(item__product__slug="bench-portal").count() == 900
