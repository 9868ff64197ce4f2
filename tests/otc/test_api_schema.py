"""The OpenAPI schema documents every API route, and the docs page works without a CDN.

The routes are read from Django's URL resolver, independently of drf-spectacular, so a view
that the generator skips (or that someone excludes) makes these tests fail."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.routers import APIRootView
from rest_framework.test import APIClient

from tests.factories.api_schema import fetch_schema
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db

API_PREFIX = "/api/v1/"
NOT_ENDPOINTS = {"api-schema", "api-docs", "api-redoc"}
_IGNORED_METHODS = {"options", "head", "trace"}


def _route(pattern) -> str:
    text = getattr(pattern, "_route", None)
    if text is None:  # a regex (DRF routers)
        text = pattern.regex.pattern.lstrip("^").rstrip("$").replace("\\Z", "")
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)
        return text.replace("\\.", ".").replace("\\-", "-")
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + _route(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def _methods(callback) -> set[str]:
    if getattr(callback, "actions", None):  # a DRF viewset route: the routed methods
        return set(callback.actions) - _IGNORED_METHODS
    cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if cls is None:  # a plain Django view under /api/: it must be documented too
        return {"get"}
    return {m for m in cls.http_method_names if hasattr(cls, m)} - _IGNORED_METHODS


def api_routes(urlconf: str | None = None) -> set[tuple[str, str]]:
    """(path, method) for every endpoint under /api/v1/ in the URL resolver."""
    found = set()
    for route, entry in _walk(get_resolver(urlconf).url_patterns):
        path = "/" + route
        if not path.startswith(API_PREFIX) or entry.name in NOT_ENDPOINTS or "{format}" in path:
            continue
        cls = getattr(entry.callback, "cls", None)
        if cls is not None and issubclass(cls, APIRootView):
            continue
        found |= {(path, method) for method in _methods(entry.callback)}
    return found


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)  # {pk} in the URLconf is {id} in the schema


def missing_from_schema(routes: set[tuple[str, str]], schema: dict) -> list[str]:
    documented = {(_shape(path), method) for path, ops in schema["paths"].items() for method in ops}
    return sorted(f"{method.upper()} {path}" for path, method in routes if (_shape(path), method) not in documented)


def test_schema_requires_authentication():
    response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 401
    assert json.loads(response.content)["error"] == "not_authenticated"


def test_every_project_api_route_is_in_the_schema():
    schema = fetch_schema()
    routes = api_routes()

    assert routes, "no API route found under /api/v1/: the resolver walk is broken"

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "otc API"
    assert missing_from_schema(routes, schema) == []


@pytest.mark.urls("tests.otc.urls")
def test_routes_are_found_and_documented_with_the_kernel_test_endpoints():
    routes = api_routes()
    schema = fetch_schema()

    assert {
        ("/api/v1/kernel-test/counters/", "get"),
        ("/api/v1/kernel-test/counters/", "post"),
        ("/api/v1/kernel-test/counters/{pk}/", "get"),
        ("/api/v1/kernel-test/counters/explode/", "post"),
    } <= routes
    assert missing_from_schema(routes, schema) == []
    assert "ApiToken" in schema["components"]["securitySchemes"]


@pytest.mark.urls("tests.otc.urls_undocumented")
def test_the_check_fails_when_an_endpoint_is_missing_from_the_schema():
    routes = api_routes()
    schema = fetch_schema()

    assert ("/api/v1/kernel-test/hidden/", "get") in routes
    assert missing_from_schema(routes, schema) == ["GET /api/v1/kernel-test/hidden/"]


@pytest.mark.urls("tests.otc.urls")
def test_a_path_dropped_from_the_schema_is_reported():
    schema = fetch_schema()
    del schema["paths"]["/api/v1/kernel-test/counters/{id}/"]

    assert missing_from_schema(api_routes(), schema) == ["GET /api/v1/kernel-test/counters/{pk}/"]


def test_docs_page_renders_with_vendored_assets_only():
    client = APIClient()
    client.force_login(user_with_role("Auditor"))

    response = client.get("/api/v1/docs/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in html
    assert re.findall(r"""(?:src|href)=["']?(?:https?:)?//""", html) == []
    assert "cdn" not in html.lower()


def test_schema_generates_without_warnings(tmp_path):
    """Warnings (enum name collisions, unresolvable serializers) make a worse schema for the CRM
    team; --fail-on-warn turns any into a failure."""
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")
