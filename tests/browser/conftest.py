"""Browser fixtures: Playwright's sync API driving Debian's chromium headless against
pytest-django's live server. Mark tests `@pytest.mark.browser` and
`@pytest.mark.django_db(transaction=True)` (the live server runs in another thread).

    from tests.browser.conftest import login

    @pytest.mark.browser
    @pytest.mark.django_db(transaction=True)
    def test_something(page, live_server):
        login(page, live_server, "bella", "pw")
"""

from __future__ import annotations

import os
import socket

import pytest

from tests.conftest import CHROMIUM

# Playwright's sync API runs an event loop in this thread; Django would refuse ORM calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def playwright_instance():
    """Module-scoped on purpose. While Playwright's sync API is running, the main thread has a
    running event loop, so Django keeps its database connections in context-local storage
    instead of the thread-local one. Connections opened meanwhile are closed here before the
    loop stops; otherwise they would outlive their storage and keep the test database busy
    (PostgreSQL then refuses to drop it at the end of the run)."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright
        connections.close_all()


@pytest.fixture(scope="module")
def browser(playwright_instance):
    """Tests never reach the network: every request but those to the live server (`localhost`) goes
    to a proxy at a loopback port this fixture holds bound and never listens on, so it fails in the
    browser with ERR_PROXY_CONNECTION_FAILED, whatever its host or address. (Intercepting each request
    with Playwright's `route` did the same from Python, at about 70 ms a page, and turned the
    browser's cache off.)"""
    with socket.socket() as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        browser = playwright_instance.chromium.launch(
            executable_path=CHROMIUM or "/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS,
            proxy={"server": f"http://127.0.0.1:{closed_port.getsockname()[1]}", "bypass": "localhost"},
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context and page. Requests to any host but the live server fail in the
    browser (the `browser` fixture's closed proxy) and are recorded in `page.offsite_requests`;
    responses >= 400 are recorded in `page.failed_responses`, and what the Content-Security-Policy
    refused in `page.csp_violations`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.offsite_requests = []
    page.failed_responses = []

    def offsite(request):
        if not request.url.startswith((live_server.url, "data:", "blob:")):
            page.offsite_requests.append(request.url)

    context.on("request", offsite)
    page.on("response", lambda r: r.status >= 400 and page.failed_responses.append(f"{r.status} {r.url}"))
    # Content-Security-Policy refusals (a blocked inline script or style) appear as console errors.
    page.csp_violations = []
    page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text
            and page.csp_violations.append(m.text))
    yield page
    context.close()


def login(page, live_server, username: str, password: str = "pw") -> None:
    """Log in through the login form and wait for the dashboard."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if "/accounts/login/" in page.url:
        raise AssertionError(f"Login as {username!r} failed: still on {page.url}")


def logout(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
