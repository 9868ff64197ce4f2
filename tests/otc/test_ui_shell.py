"""The UI shell: login/logout, the dashboard per role, error pages, no CDN."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from otc.registry import Panel, registry
from otc.roles import HUMAN_ROLES
from tests.factories.otc import UserFactory, user_with_role

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def panels():
    """Two dashboard panels registered for the test: one for everyone, one for ledger readers."""
    saved = list(registry.dashboard)
    registry.register_dashboard_panel(Panel(key="kt-everyone", title="Everyone's queue",
                                            template="includes/pagination.html", context=lambda request: {}))
    registry.register_dashboard_panel(Panel(key="kt-ledger", title="Trial balance queue",
                                            template="includes/pagination.html", context=lambda request: {},
                                            permission="ledger.view_trial_balance"))
    registry.register_dashboard_panel(Panel(key="kt-hidden", title="Hidden by its context",
                                            template="includes/pagination.html", context=lambda request: None))
    yield
    registry.dashboard[:] = saved


def test_login_page_renders():
    response = Client().get("/accounts/login/")

    assert response.status_code == 200
    assert "registration/login.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html and "csrfmiddlewaretoken" in html


def test_anonymous_dashboard_redirects_to_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_login_works_and_lands_on_the_dashboard():
    UserFactory(username="bella", first_name="Bella")
    client = Client()

    response = client.post("/accounts/login/", {"username": "bella", "password": "pw"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Good day, Bella" in home.content.decode()


def test_wrong_password_is_refused_with_a_message():
    UserFactory(username="bella")

    response = Client().post("/accounts/login/", {"username": "bella", "password": "nope"})

    assert response.status_code == 200
    assert "Your username and password didn't match." in response.content.decode()


def test_logout_is_a_post_and_ends_the_session():
    client = Client()
    client.force_login(UserFactory(username="bella"))

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


LEDGER_READERS = {"Finance Manager", "Controller", "Cash Application Specialist", "Auditor"}


@pytest.mark.parametrize("role", HUMAN_ROLES)
def test_dashboard_renders_for_every_role_with_its_panels(role, panels):
    client = Client()
    client.force_login(user_with_role(role))

    response = client.get("/")
    html = response.content.decode()

    assert response.status_code == 200
    assert role in html  # the navbar shows the user's roles
    assert 'data-panel="kt-everyone"' in html
    assert ('data-panel="kt-ledger"' in html) is (role in LEDGER_READERS)
    assert 'data-panel="kt-hidden"' not in html
    assert "Log out" in html


def test_dashboard_without_panels_says_so():
    saved = list(registry.dashboard)
    registry.dashboard[:] = []
    try:
        client = Client()
        client.force_login(UserFactory())
        html = client.get("/").content.decode()
    finally:
        registry.dashboard[:] = saved
    assert "No work queues for your role yet." in html


@pytest.mark.urls("tests.otc.urls")
def test_403_page_uses_the_template(settings):
    settings.DEBUG = False
    client = Client()
    client.force_login(UserFactory())

    response = client.get("/kernel-test/forbidden/")

    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    assert "403 · Not allowed" in response.content.decode()


def test_404_page_uses_the_template(settings):
    settings.DEBUG = False
    client = Client()
    client.force_login(UserFactory())

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]


@pytest.mark.urls("tests.otc.urls")
def test_500_page_uses_the_template(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    response = client.get("/kernel-test/crash/")

    assert response.status_code == 500
    assert "500.html" in [t.name for t in response.templates]


def test_healthz():
    response = Client().get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")


def _template_files() -> list[Path]:
    dirs = [ROOT / "templates", *ROOT.glob("*/templates")]
    return sorted(p for d in dirs if ".venv" not in d.parts for p in d.rglob("*.html"))


def test_no_template_loads_assets_from_the_network():
    files = _template_files()
    remote = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""", re.I)
    imports = re.compile(r"""@import\s+(?:url\()?["']?(?:https?:)?//|url\(["']?(?:https?:)?//""", re.I)

    offenders = [str(p.relative_to(ROOT)) for p in files if remote.search(p.read_text()) or imports.search(p.read_text())]

    assert (ROOT / "templates" / "base.html") in files
    assert offenders == []


def test_base_layout_serves_vendored_assets():
    client = Client()
    client.force_login(UserFactory())
    html = client.get("/").content.decode()

    assets = re.findall(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)""", html)

    assert "/static/vendor/bootstrap/bootstrap.min.css" in assets
    assert "/static/vendor/htmx/htmx.min.js" in assets
    assert [a for a in assets if not a.startswith("/static/")] == []


def test_a_favicon_is_linked_and_served():
    client = Client()
    client.force_login(UserFactory())
    html = client.get("/").content.decode()
    assert re.search(r'<link rel="icon" type="image/svg\+xml" href="/static/otc/favicon.svg">', html)
    # browsers also ask /favicon.ico whatever the page links: it leads to the same icon, not a 404
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/otc/favicon.svg"
    icon = (ROOT / "static/otc/favicon.svg").read_text()
    assert icon.lstrip().startswith("<svg") and "</svg>" in icon
