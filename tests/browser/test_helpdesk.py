"""The help desk in a real browser, by two people: a sales rep files a payment-status ticket
(the form shows what the books already say, the rep files anyway), the agent finds it in
"My queue" on the dashboard, sees the customer's AR panel beside it and answers with one click;
the rep sees the answer and the ticket resolved."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk.models import Queue, Ticket
from helpdesk.services import queue_ensure
from tests.browser.conftest import login, logout
from tests.factories.billing import de_entity, issued
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_files_and_an_agent_answers_with_an_action(page, live_server, settings, tmp_path):
    settings.HELPDESK_ATTACHMENT_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    entity = de_entity()
    rep = user_with_role("Sales Rep", username="sam", first_name="Sam")
    agent = user_with_role("Help Desk Agent", username="hana", first_name="Hana")
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH", sales_owner=rep)
    invoice = issued(entity, customer=customer)
    queue_ensure(legal_entity=entity, kind=Queue.Kind.CASH_APPLICATION).members.add(agent)

    # the rep files a payment-status ticket; the form answers from the books first
    login(page, live_server, "sam")
    expect(page.locator("[data-panel=helpdesk-my-tickets]")).to_be_visible()
    page.get_by_role("link", name="Help desk").first.click()
    page.get_by_role("link", name="File a ticket").first.click()
    page.locator("[data-category=payment_status]").click()
    page.select_option("[data-testid=invoice-picker]", str(invoice.pk))
    expect(page.locator("[data-testid=self-service-answer]")).to_contain_text("No payment has been applied to it yet.")
    page.fill("#id_subject", "Has Kunde Eins paid?")
    page.fill("#id_description", "Their AP says the money left on Friday.")
    page.get_by_test_id("file-ticket").click()
    expect(page.locator(".alert-success")).to_contain_text("filed")
    ticket = Ticket.objects.get()
    assert ticket.self_service_answer and ticket.assignee_id == agent.pk
    expect(page.locator("[data-testid=ticket-status]")).to_have_text("New")
    logout(page)

    # the agent sees it in My queue, with the customer's AR panel, and answers with one click
    login(page, live_server, "hana")
    panel = page.locator("[data-panel=helpdesk-my-queue]")
    expect(panel).to_contain_text(ticket.reference)
    panel.get_by_role("link", name=ticket.reference).click()
    expect(page.locator("[data-panel=ledger-balance]")).to_contain_text("1,190.00")
    page.get_by_test_id("action-payment-status").click()
    expect(page.locator(".alert-success")).to_contain_text("Payment status answered")
    expect(page.locator("[data-testid=ticket-status]")).to_have_text("Resolved")
    logout(page)

    # the rep reads the answer and rates it
    login(page, live_server, "sam")
    page.goto(f"{live_server.url}/helpdesk/t/{ticket.reference}/")
    expect(page.locator("[data-testid=reply]").first).to_contain_text("Still due: 1,190.00 EUR")
    expect(page.locator("[data-testid=note]")).to_have_count(0)
    page.get_by_role("button", name="5").click()
    expect(page.locator(".alert-success")).to_contain_text("Thank you")
    assert Ticket.objects.get().satisfaction == 5
    assert not page.offsite_requests and not page.failed_responses
