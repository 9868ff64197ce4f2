"""The contract review in a real browser: a reviewer opens "Awaiting my review", reads the
findings on the review page, approves, and sees the contract active."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories.contracts_views import world_fixture  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_approves_from_the_queue(page, live_server, world):
    version = world.submitted("1000.00", payment_terms_days=45)  # a warning, one level
    number = version.contract.number
    login(page, live_server, "reviewer")

    page.get_by_role("link", name="Contracts", exact=True).first.click()
    page.get_by_role("link", name="Awaiting my review").click()
    expect(page.locator("h1")).to_have_text("Awaiting my review")
    page.get_by_role("link", name=number).click()

    expect(page.locator("h1")).to_contain_text(number)
    findings = page.locator("[data-testid=findings]")
    expect(findings).to_contain_text("Net 45 exceeds the standard Net 30 by 15 days")
    expect(findings.locator(".status-warning")).to_have_text("Warning")
    expect(page.locator("[data-testid=version-status]")).to_contain_text("Submitted")

    page.fill("#id_decision_comment", "Net 45 is acceptable for this customer.")
    page.get_by_role("button", name="Approve").click()

    expect(page.locator(".alert-success")).to_contain_text(
        f"{number} version 1: level 1 of 1 (Contract Reviewer) approved, the last level required")
    expect(page.locator("[data-testid=contract-status]")).to_have_text("Active")
    expect(page.locator("[data-testid=approval-history]")).to_contain_text("Net 45 is acceptable")
    expect(page.locator("[data-testid=decision-form]")).to_have_count(0)
    assert page.offsite_requests == []
