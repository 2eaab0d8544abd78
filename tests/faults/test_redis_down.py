"""Redis down: pages and the API keep serving, saves work, the UI says scores may be stale, and the
recompute happens once Redis is back. No 500, and no request waits long on the dead broker."""

import logging
import time

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import api_token_issue
from roadmap.models import Feature, Product
from roadmap.planning.services.scoring import product_recompute_scores
from roadmap.tasks import recompute_pending_products
from tests import factories as f
from tests.support import CeleryWorker, wait_for

# Requests that enqueue commit for real, so what runs after commit runs inside the request.
committing = pytest.mark.django_db(transaction=True)

STALE_BANNER = "Scores may be stale"


def _api(user, workspace) -> APIClient:
    _, raw = api_token_issue(user=user, workspace=workspace, name="faults", scope="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _scored_product(workspace) -> Product:
    product = f.ProductFactory(workspace=workspace)
    f.FeatureFactory.create_batch(3, product=product)
    product_recompute_scores(product_id=product.pk)
    return product


@committing
def test_pages_api_and_saves_keep_working_while_redis_is_down(
    client, editor, workspace, redis_at, dead_redis_url, caplog
):
    # Given Waymark's cache, broker and readiness check pointing at a Redis that is down
    product = _scored_product(workspace)
    feature = product.features.first()
    api = _api(editor, workspace)
    client.force_login(editor)
    redis_at(dead_redis_url)
    priorities = f"/api/v1/products/{product.slug}/priorities/"

    # When a PM browses: the products page, a product, a feature, the API's priorities
    pages = [
        reverse("roadmap:home"),
        product.get_absolute_url(),
        reverse("roadmap:feature", args=[feature.pk]),
    ]
    answers = {url: client.get(url).status_code for url in pages}
    answers[priorities] = api.get(priorities).status_code

    # Then every one answers
    assert answers == dict.fromkeys([*pages, priorities], 200)

    # When the PM edits a feature's input through the API
    started = time.monotonic()
    edited = api.patch(f"/api/v1/features/{feature.pk}/", {"reach": 300}, format="json")

    # Then it is saved and rescored at once (in the request, no broker needed)
    assert edited.status_code == 200, edited.content
    feature.refresh_from_db()
    assert (feature.reach, feature.score) == (300, pytest.approx(120.0))

    # When the PM switches the product's framework, which recomputes every feature in a worker
    with caplog.at_level(logging.WARNING):
        switched = api.patch(
            f"/api/v1/products/{product.slug}/", {"scoring_framework": "ice"}, format="json"
        )
    elapsed = time.monotonic() - started

    # Then the change is saved, the enqueue failure is logged, and nobody waited on Redis
    assert switched.status_code == 200, switched.content
    product.refresh_from_db()
    assert product.scoring_framework == "ice"
    assert product.scores_stale
    assert "Could not enqueue roadmap.tasks.recompute_product" in caplog.text
    assert elapsed < 3.0

    # ...and the pages and the API say the scores may be stale
    assert STALE_BANNER in client.get(product.get_absolute_url()).content.decode()
    assert api.get(priorities).json()["scores_stale"] is True

    # ...while /healthz is fine and /readyz reports the broker down
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["broker"].startswith("error:")
    assert ready.json()["database"] == "ok"

    # When the periodic sweeper runs (beat sends it every minute once Redis is back)
    recompute_pending_products.apply(kwargs={"min_age_seconds": 0})

    # Then the product is recomputed under ICE and no longer stale
    product.refresh_from_db()
    assert not product.scores_stale
    frameworks = set(
        Feature.objects.filter(product=product).values_list("score_breakdown__framework", flat=True)
    )
    assert frameworks == {"ice"}
    assert STALE_BANNER not in client.get(product.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_login_lockout_still_holds_while_the_cache_is_down(client, redis_at, dead_redis_url):
    # Given a member, and the cache (where login failures are counted) down
    user = f.UserFactory(email="pm@example.com")
    f.MembershipFactory(user=user)
    redis_at(dead_redis_url)

    def login(password):
        return client.post("/accounts/login/", {"username": "pm@example.com", "password": password})

    # When someone guesses five times, then tries the right password
    guesses = [login("wrong").status_code for _ in range(5)]
    blocked = login("correct horse battery")

    # Then the guesses are answered, not 500, and the account is still locked (counted in memory)
    assert guesses == [200] * 5
    assert blocked.status_code == 200
    assert "Too many failed attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_api_throttle_still_limits_while_the_cache_is_down(
    editor, workspace, settings, redis_at, dead_redis_url, caplog
):
    # Given a rate of three requests a minute and the cache down
    settings.API_THROTTLE_RATE = "3/minute"
    api = _api(editor, workspace)
    redis_at(dead_redis_url)

    # When a client makes four requests
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        codes = [api.get("/api/v1/products/").status_code for _ in range(4)]

    # Then three are answered and the fourth throttled; the outage is logged once, not per call
    assert codes == [200, 200, 200, 429]
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1


@pytest.mark.django_db
def test_share_link_password_limit_still_holds_while_the_cache_is_down(redis_at, dead_redis_url):
    from django.contrib.auth.hashers import make_password

    from roadmap.sharing.services.sharing import (
        PASSWORD_ATTEMPTS,
        PasswordCheck,
        share_link_check_password,
    )

    # Given a password-protected share link and the cache down
    link = f.ShareLinkFactory(password_hash=make_password("open sesame"))
    redis_at(dead_redis_url)

    # When one client gives wrong passwords up to the limit, then the right one
    wrong = [
        share_link_check_password(share_link=link, password="guess", client="10.0.0.1")
        for _ in range(PASSWORD_ATTEMPTS)
    ]
    right = share_link_check_password(share_link=link, password="open sesame", client="10.0.0.1")

    # Then it is refused until the window ends
    assert wrong == [PasswordCheck.WRONG] * PASSWORD_ATTEMPTS
    assert right == PasswordCheck.LIMITED


@pytest.mark.services
@committing
def test_recompute_missed_while_redis_was_down_is_done_once_it_is_back(
    tmp_path, editor, workspace, redis_server, redis_at
):
    # Given a worker, and the web app enqueueing to it, on a Redis of their own
    worker = CeleryWorker(tmp_path, env={"REDIS_URL": redis_server.url})
    worker.start()
    try:
        redis_at(redis_server.url, queue=worker.queue)
        product = _scored_product(workspace)
        api = _api(editor, workspace)

        # When Redis goes down and the PM switches the product's framework meanwhile
        redis_server.stop()
        switched = api.patch(
            f"/api/v1/products/{product.slug}/", {"scoring_framework": "wsjf"}, format="json"
        )

        # Then the change is saved, and the scores are stale
        assert switched.status_code == 200, switched.content
        assert Product.objects.get(pk=product.pk).scores_stale

        # ...and the worker has failed to reconnect more than once (it keeps trying)
        wait_for(lambda: worker.log().count("Trying again") >= 2, timeout=10)

        # When Redis is back (empty: it kept nothing) and beat sends the sweeper
        redis_server.start()
        recompute_pending_products.apply_async(kwargs={"min_age_seconds": 0})

        # Then the worker, reconnected by itself, recomputes the product under WSJF
        wait_for(lambda: not Product.objects.get(pk=product.pk).scores_stale, timeout=20)
        frameworks = set(
            Feature.objects.filter(product=product).values_list(
                "score_breakdown__framework", flat=True
            )
        )
        assert frameworks == {"wsjf"}

        # ...and the next change is enqueued and recomputed the usual way
        switched = api.patch(
            f"/api/v1/products/{product.slug}/", {"scoring_framework": "rice"}, format="json"
        )
        assert switched.status_code == 200
        wait_for(lambda: not Product.objects.get(pk=product.pk).scores_stale, timeout=20)
        assert "roadmap.tasks.recompute_product" in worker.log()
    finally:
        worker.stop()


@pytest.mark.django_db
def test_a_pending_csv_import_survives_redis_going_down(
    client, editor, product, redis_server, redis_at
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    # Given a CSV import previewed while Redis was up
    client.force_login(editor)
    redis_at(redis_server.url)
    upload = SimpleUploadedFile("features.csv", b"title\nSurvivor\n", content_type="text/csv")
    preview = client.post(reverse("roadmap:features_import", args=[product.slug]), {"file": upload})
    assert preview.status_code == 200

    # When Redis goes down (losing all it held) before the PM confirms
    redis_server.stop()
    key = preview.context["confirm"]["upload"].value()
    confirm = reverse("roadmap:features_import_confirm", args=[product.slug])
    imported = client.post(confirm, {"upload": key})

    # Then the import happens, once
    assert imported.status_code == 302
    assert client.post(confirm, {"upload": key}).status_code == 400
    titles = Feature.objects.filter(product=product).values_list("title", flat=True)
    assert list(titles) == ["Survivor"]
