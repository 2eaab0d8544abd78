"""Capped counts: exact up to the cap, "N+" beyond, reading at most cap + 1 rows."""

from django.db.models import OuterRef

from roadmap.counts import CappedCount, CountAtLeast, capped, capped_count
from roadmap.models import Feature, Product
from tests.factories import FeatureFactory, ProductFactory


def test_a_count_beyond_the_cap_reads_as_at_least_the_cap():
    assert capped(3, cap=3) == 3 and type(capped(3, cap=3)) is int
    beyond = capped(4, cap=3)
    assert isinstance(beyond, CountAtLeast)
    assert beyond == 3 and beyond > 2 and str(beyond) == "3+"
    assert str(CountAtLeast(10_000)) == "10,000+"


def test_capped_count_is_exact_up_to_the_cap(product, django_assert_num_queries):
    # Given a product of four features
    FeatureFactory.create_batch(4, product=product)
    features = Feature.objects.filter(product=product)
    # When counted with caps above, at and below four, then one query each
    with django_assert_num_queries(3):
        results = [capped_count(features, cap=cap) for cap in (5, 4, 3)]
    # Then exact up to the cap, "3+" beyond it
    assert [str(result) for result in results] == ["4", "4", "3+"]


def test_the_capped_count_expression_counts_each_outer_row(workspace, django_assert_num_queries):
    # Given two products of 1 and 3 features
    small, large = ProductFactory(workspace=workspace), ProductFactory(workspace=workspace)
    FeatureFactory(product=small)
    FeatureFactory.create_batch(3, product=large)
    # When annotated with a cap of 2, in one query
    with django_assert_num_queries(1):
        counts = dict(
            Product.objects.filter(pk__in=[small.pk, large.pk])
            .annotate(n=CappedCount(Feature.objects.filter(product=OuterRef("pk")), cap=2))
            .values_list("pk", "n")
        )
    # Then the small one is exact and the large one reads cap + 1
    assert counts == {small.pk: 1, large.pk: 3}
    assert str(capped(counts[large.pk], cap=2)) == "2+"
