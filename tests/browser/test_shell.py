"""Smoke test of the UI shell in a real browser: log in, see the dashboard, log out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, logout
from tests.factories.otc import user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_see_the_dashboard_and_log_out(page, live_server):
    user_with_role("Billing Specialist", username="bella", first_name="Bella", last_name="Bills")

    login(page, live_server, "bella", "pw")

    assert page.url == f"{live_server.url}/"
    expect(page.locator("h1")).to_have_text("Good day, Bella")
    expect(page.get_by_test_id("current-user")).to_contain_text("Bella Bills · Billing Specialist")
    # the vendored stylesheet applied (Bootstrap's dark navbar), nothing fetched from elsewhere
    expect(page.locator("nav.navbar")).to_have_css("background-color", "rgb(33, 37, 41)")

    logout(page)

    assert page.url == f"{live_server.url}/accounts/login/"
    page.goto(f"{live_server.url}/")
    assert page.url == f"{live_server.url}/accounts/login/?next=/"
    assert page.offsite_requests == []
    assert page.failed_responses == []


def test_wrong_password_stays_on_the_login_page(page, live_server):
    user_with_role("Collector", username="colin")

    with pytest.raises(AssertionError, match="Login as 'colin' failed"):
        login(page, live_server, "colin", "wrong")

    expect(page.locator(".alert-danger")).to_contain_text("didn't match")
