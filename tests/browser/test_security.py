"""With the Content-Security-Policy on, the pages that run JavaScript still work and the browser
refuses nothing: htmx, Bootstrap, the receipt split form, the formsets, Swagger UI. An
administrator subscribes a client to webhooks in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from otc.models import WebhookSubscription
from tests.browser.conftest import login
from tests.factories.otc import integration_client, user_with_role
from tests.factories.receivables_views import make_book, record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scripts_run_under_the_policy_and_nothing_is_refused(page, live_server, today):
    book = make_book(today)
    receipt = record(book, "590.00")
    user_with_role("Cash Application Specialist", username="cara")

    login(page, live_server, "cara")
    page.goto(f"{live_server.url}/receivables/receipts/{receipt.pk}/")
    expect(page.locator("#invoice-results")).to_contain_text(book["first"].number)  # htmx loaded it
    page.locator(".alloc-amount").first.fill("100.00")
    expect(page.get_by_test_id("split-total")).to_have_text("100.00")  # static/otc/receipt_split.js
    expect(page.get_by_test_id("split-left")).to_have_text("490.00")
    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.locator(".swagger-ui .info")).to_contain_text("otc API", timeout=60_000)  # the split view's script file ran

    assert page.csp_violations == [] and not page.offsite_requests and not page.failed_responses


def test_administrator_subscribes_a_client_and_sees_the_secret_once(page, live_server):
    client, _ = integration_client(scopes=["invoices:read", "webhooks:manage"], name="CRM")
    admin = client.created_by
    admin.set_password("pw")
    admin.save()

    login(page, live_server, admin.username)
    page.goto(f"{live_server.url}/settings/webhooks/")
    page.select_option("#id_client", str(client.pk))
    page.fill("#id_url", "https://crm.example/hooks/otc")
    page.select_option("#id_event_types", ["invoice.paid", "invoice.overdue"])
    page.get_by_role("button", name="Subscribe").click()

    subscription = WebhookSubscription.objects.get()
    expect(page.get_by_test_id("secret")).to_contain_text(subscription.secret)
    assert subscription.event_types == ["invoice.overdue", "invoice.paid"]
    page.reload()
    expect(page.get_by_test_id("secret")).to_have_count(0)
    assert page.csp_violations == [] and not page.offsite_requests
