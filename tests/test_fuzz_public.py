"""No public route answers 500, whatever an anonymous client sends (issue 16.11).

The routes are found by walking the URL resolver and keeping those an anonymous client reaches
(neither sent to log in nor refused with 401/403), each built with real tokens from the permission
table's world: the external roadmap, its JSON, feed and subscribe form, digest confirm and
unsubscribe, login, password reset, invitation accept, health checks, the API schema and docs.
Hypothesis then sends them arbitrary path segments, query strings, form bodies and JSON of any
nesting, with any bytes (NUL included), as GET, HEAD and POST. Examples are derived from the test's
name (``derandomize``), so CI runs the same ones every time.
"""

from __future__ import annotations

import json
from urllib.parse import quote_from_bytes

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_permissions import ROWS, World

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Parameters and fields the public pages read, plus whatever else Hypothesis makes up.
KNOWN_NAMES = [
    "q", "next", "page", "page_size", "format", "audience", "embed", "password", "email",
    "username", "name", "display_name", "password1", "password2", "new_password1",
    "new_password2", "frequency", "weekday", "hour", "token", "csrfmiddlewaretoken",
]  # fmt: skip

names = st.one_of(st.sampled_from(KNOWN_NAMES), st.text(max_size=12))
raw_bytes = st.binary(max_size=40)
texts = st.one_of(st.text(max_size=40), st.sampled_from(["\x00", "a\x00b", "\r\n", "%00"]))


def _json_values():
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts)
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)
        ),
        max_leaves=20,
    )


@st.composite
def json_bodies(draw) -> bytes:
    """A JSON document of any shape, or one nested far deeper than any parser recursion limit,
    or bytes that are almost JSON."""
    kind = draw(st.sampled_from(["value", "deep", "bytes"]))
    if kind == "value":
        return json.dumps(draw(_json_values())).encode()
    if kind == "deep":
        depth = draw(st.integers(min_value=1, max_value=100_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        inner = draw(st.sampled_from(["1", "", '"\\u0000"']))
        return (opener * depth + inner + closer * depth).encode()
    return draw(raw_bytes)


def _route_names(resolver: URLResolver, namespace: str = "") -> list[str]:
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += _route_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.append(namespace + pattern.name)
    return sorted(set(found))


def _url_kwargs(world: World) -> dict[str, dict]:
    """Real URL arguments per route name (a real confirmation token, unlike the table's)."""
    built = {row.name: row.kwargs(world) for row in ROWS if row.kwargs}
    built["digests:confirm"] = {"token": world.subscription.confirmation_token}
    return built


def _is_public(response) -> bool:
    if response.status_code in (401, 403):
        return False
    return not (response.status_code == 302 and "login" in response.get("Location", ""))


def public_routes(world: World) -> list[tuple[str, str, dict]]:
    """(name, path, kwargs) of every route an anonymous client reaches."""
    arguments = _url_kwargs(world)
    routes = []
    for name in _route_names(get_resolver()):
        try:
            kwargs = arguments.get(name, {})
            path = reverse(name, kwargs=kwargs or None)
        except Exception:  # a route needing arguments the world does not name: not public
            continue
        client = Client(raise_request_exception=False)
        if _is_public(client.get(path)) or _is_public(client.post(path)):
            routes.append((name, path, kwargs))
    return routes


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def routes(world):
    found = public_routes(world)
    names = {name for name, _, _ in found}
    # The walk finds the public routes, and only them.
    assert {
        "external:roadmap", "external:json", "external:feed", "external:subscribe",
        "digests:confirm", "digests:unsubscribe", "accounts:login", "accounts:password_reset",
        "accounts:password_reset_confirm", "accounts:invitation_accept", "healthz", "api:schema",
    } <= names  # fmt: skip
    assert not names & {"roadmap:home", "roadmap:product", "accounts:members", "api:product-list"}
    return found


def _send(method: str, path: str, body: bytes | None = None, content_type: str = "") -> int:
    """One anonymous request; its writes are rolled back, so examples do not pile up."""
    client = Client(raise_request_exception=False)
    with transaction.atomic():
        if method == "POST":
            response = client.post(path, body or b"", content_type=content_type)
        else:
            response = client.generic(method, path)
        transaction.set_rollback(True)
    return response.status_code


def _mutated_path(path: str, kwargs: dict, value: bytes, whole: bool) -> str:
    segment = quote_from_bytes(value, safe="")
    real = [str(v) for v in kwargs.values() if str(v) in path]
    if whole or not real:
        return path.rstrip("/") + "/" + segment + ("/" if path.endswith("/") else "")
    return path.replace(real[0], segment, 1)


@FUZZ
@given(
    data=st.data(),
    value=st.one_of(raw_bytes, st.sampled_from([b"\x00", b"%00", b"a\x00", b"\xff\xfe", b".."])),
    whole=st.booleans(),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
)
def test_arbitrary_path_segments_get_no_500(routes, data, value, whole, method):
    name, path, kwargs = data.draw(st.sampled_from(routes), label="route")
    url = _mutated_path(path, kwargs, value, whole)

    assert _send(method, url) != 500, f"{method} {url}"


@FUZZ
@given(
    data=st.data(),
    query=st.lists(st.tuples(names, st.one_of(raw_bytes, texts.map(str.encode))), max_size=4),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
)
def test_arbitrary_query_strings_get_no_500(routes, data, query, method):
    name, path, _ = data.draw(st.sampled_from(routes), label="route")
    url = (
        path
        + "?"
        + "&".join(
            f"{quote_from_bytes(k.encode(), safe='')}={quote_from_bytes(v, safe='')}"
            for k, v in query
        )
    )

    assert _send(method, url) != 500, f"{method} {url}"


@FUZZ
@given(
    data=st.data(),
    form=st.lists(st.tuples(names, st.one_of(raw_bytes, texts.map(str.encode))), max_size=6),
    json_body=json_bodies(),
    kind=st.sampled_from(["form", "json", "raw"]),
)
def test_arbitrary_form_and_json_bodies_get_no_500(routes, data, form, json_body, kind):
    name, path, _ = data.draw(st.sampled_from(routes), label="route")
    if kind == "form":
        body = "&".join(
            f"{quote_from_bytes(k.encode(), safe='')}={quote_from_bytes(v, safe='')}"
            for k, v in form
        ).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        body = json_body
        content_type = "application/json" if kind == "json" else "text/plain"

    assert _send("POST", path, body, content_type) != 500, f"POST {path} {body[:200]!r}"
