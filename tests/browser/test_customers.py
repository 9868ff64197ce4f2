"""The customer master file in a real browser: a finance user finds a customer and edits it;
a sales rep is refused another rep's customer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.browser.conftest import login
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_billing_specialist_finds_a_customer_and_edits_its_credit_limit(page, live_server):
    user_with_role("Billing Specialist", username="bella")
    CustomerFactory(legal_name="Zephyr Analytics GmbH", credit_limit=Decimal("50000"))
    for n in range(5):
        CustomerFactory(legal_name=f"Other Customer {n} GmbH")
    login(page, live_server, "bella")

    # find it: typing in the search box filters the table in place (htmx)
    page.get_by_role("link", name="Customers").first.click()
    page.wait_for_load_state()  # htmx is loaded with `defer`: type only once it listens
    page.fill("input[name=q]", "zephyr")
    expect(page.get_by_role("link", name="Zephyr Analytics GmbH")).to_be_visible()
    expect(page.get_by_role("link", name="Other Customer 1 GmbH")).to_have_count(0)
    page.get_by_role("link", name="Zephyr Analytics GmbH").click()
    expect(page.locator("h1")).to_contain_text("Zephyr Analytics GmbH")

    # edit it: a malformed amount is refused with a message, a good one is saved
    page.get_by_role("link", name="Edit", exact=True).click()
    page.fill("input[name=credit_limit]", "1,2,3")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("is not an amount")
    page.fill("input[name=credit_limit]", "75,000.00")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("h1")).to_contain_text("Zephyr Analytics GmbH")
    expect(page.locator("body")).to_contain_text("75,000.00 EUR")
    customer = Customer.objects.get(legal_name="Zephyr Analytics GmbH")
    assert customer.credit_limit == Decimal("75000.00")
    # the change is in the history on the page, with who made it
    last = customer.history.first()
    assert last.history_user.username == "bella"
    assert page.offsite_requests == []


def test_sales_rep_sees_own_customers_and_is_refused_another_reps(page, live_server):
    sam = user_with_role("Sales Rep", username="sam")
    sofia = user_with_role("Sales Rep", username="sofia")
    mine = CustomerFactory(legal_name="Mine Logistics Ltd", sales_owner=sam)
    theirs = CustomerFactory(legal_name="Theirs Media Ltd", sales_owner=sofia)
    login(page, live_server, "sam")

    page.goto(f"{live_server.url}/customers/")
    expect(page.get_by_role("link", name="Mine Logistics Ltd")).to_be_visible()
    expect(page.get_by_role("link", name="Theirs Media Ltd")).to_have_count(0)

    # my own customer: readable, but a sales rep cannot edit the master file
    page.goto(f"{live_server.url}/customers/{mine.pk}/")
    expect(page.locator("h1")).to_contain_text("Mine Logistics Ltd")
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    response = page.goto(f"{live_server.url}/customers/{mine.pk}/edit/")
    assert response.status == 403

    # another rep's customer does not exist for me
    response = page.goto(f"{live_server.url}/customers/{theirs.pk}/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("Theirs Media Ltd")
