"""The feedback page writes most "I want this" forms in Python (``vote_form``) and the one a
vote was refused for from ``external/_vote.html``: both must be the same markup."""

import re

import pytest
from django.middleware.csrf import get_token
from django.template import Context, Template
from django.test import RequestFactory

CASES = {
    "voted": {"voted": {"item-abc"}, "remembered": True, "notify": True},
    "remembered": {"voted": set(), "remembered": True, "notify": True},
    "stranger": {"voted": set(), "remembered": False, "notify": True},
    "unsubscribed": {"voted": set(), "remembered": True, "notify": False},
}


def _normal(html: str) -> str:
    # A CSRF token is masked afresh each time it is written.
    html = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', 'name="csrfmiddlewaretoken"', html)
    html = re.sub(r">\s+<", "><", html.strip())
    return re.sub(r"\s+", " ", html)


@pytest.mark.parametrize("case", CASES)
def test_the_fast_form_is_the_templates_form(case):
    request = RequestFactory().get("/r/token/")
    feedback = {
        "urls": {"vote": "/r/token/vote/", "withdraw": "/r/token/vote/withdraw/"},
        "vote": {"anchor": ""},
        **CASES[case],
    }
    item = {"anchor": "item-abc", "title": "Offline <mode> & more"}
    # What the request's context processor gives a page's template.
    token = get_token(request)
    context = {"feedback": feedback, "item": item, "request": request, "csrf_token": token}

    fast = Template("{% load portal %}{% vote_form item %}").render(Context(context))
    slow = Template('{% include "external/_vote.html" %}').render(Context(context))

    assert _normal(fast) == _normal(slow)
    assert 'name="csrfmiddlewaretoken"' in fast
    assert "Offline &lt;mode&gt; &amp; more" in fast


def test_item_anchors_stay_what_they_were(settings):
    """Anchors are links people keep: the faster derivation gives the same ones, and follows a
    new secret."""
    from django.utils.crypto import salted_hmac

    from roadmap.sharing.external import item_anchor

    for secret in ("first-secret-" * 4, "second-secret-" * 4):
        settings.SECRET_KEY = secret
        for pk in (1, 42, 987_654_321):
            expected = salted_hmac("waymark.external.item", str(pk)).hexdigest()[:12]
            assert item_anchor(pk) == f"item-{expected}"
