"""The API refuses Markdown over its bound and dates outside 2000-2099 (issue 16), with the
models' messages, and changes nothing."""

import datetime

from roadmap import bounds
from roadmap.models import PositioningAnswer
from tests import factories as f

DATE_MESSAGE = "Enter a date between 1 January 2000 and 31 December 2099."
TOO_LONG = f"Keep this to 20000 characters at most (it has {bounds.MARKDOWN_MAX_LENGTH + 1})."


def test_the_api_refuses_requirements_and_answers_over_the_bound(write_api, product):
    feature = f.FeatureFactory(product=product, requirements="Before")
    too_long = "x" * (bounds.MARKDOWN_MAX_LENGTH + 1)

    feature_response = write_api.patch(
        f"/api/v1/features/{feature.pk}/", {"requirements": too_long}, format="json"
    )
    answer_response = write_api.post(
        "/api/v1/positioning-answers/",
        {"product": product.slug, "question": "problem", "text": too_long},
        format="json",
    )

    assert feature_response.status_code == 400
    assert feature_response.json()["requirements"] == [TOO_LONG]
    assert answer_response.status_code == 400
    assert answer_response.json()["text"] == [TOO_LONG]
    feature.refresh_from_db()
    assert feature.requirements == "Before"
    assert not PositioningAnswer.objects.exists()


def test_the_api_refuses_item_and_release_dates_out_of_range(write_api, product):
    item = f.RoadmapItemFactory(product=product, end_date=datetime.date(2027, 3, 1))
    release = f.ReleaseFactory(product=product, target_date=datetime.date(2027, 3, 1))

    item_response = write_api.patch(
        f"/api/v1/roadmap-items/{item.pk}/", {"start_date": "0001-01-01"}, format="json"
    )
    release_response = write_api.patch(
        f"/api/v1/releases/{release.pk}/", {"target_date": "9998-01-01"}, format="json"
    )

    assert item_response.status_code == 400
    assert item_response.json()["start_date"] == [DATE_MESSAGE]
    assert release_response.status_code == 400
    assert release_response.json()["target_date"] == [DATE_MESSAGE]
    item.refresh_from_db()
    release.refresh_from_db()
    assert (item.start_date, release.target_date) == (None, datetime.date(2027, 3, 1))
