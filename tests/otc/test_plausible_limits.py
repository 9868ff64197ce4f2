"""Plausible limits are settings (issue 15): OTC_PLAUSIBLE_AMOUNT_MAX per currency and
OTC_PLAUSIBLE_QUANTITY_MAX per unit, enforced on every amount and quantity a person or an
integration enters (receipts, applications, refunds, manual invoices, credit notes, promises,
disputes, tickets, customers' credit limits, contract lines, usage, journal lines). A refusal
names the limit and writes nothing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import pytest
from django.core.cache import cache

from billing.models import CreditNote, Invoice
from billing.services import credit_note_request
from collections_app.models import Dispute, PromiseToPay
from collections_app.services.disputes import dispute_open
from collections_app.services.promises import promise_take
from helpdesk.models import Ticket
from otc.errors import InvalidAmount
from otc.money import check_plausible, check_plausible_quantity, plausible_max, plausible_quantity_max
from receivables.models import Receipt, ReceiptApplication
from receivables.services import receipt_apply
from tests.factories.billing import draft, specialist
from tests.factories.otc import integration_client, user_with_role
from tests.factories.receivables import make_book, record

pytestmark = pytest.mark.django_db
LIMITS = {"default": "1000000000000", "EUR": "1000000"}  # a million euros: test data reaches it


@pytest.fixture(autouse=True)
def _limits(settings):
    cache.clear()
    settings.OTC_PLAUSIBLE_AMOUNT_MAX = LIMITS
    settings.OTC_PLAUSIBLE_QUANTITY_MAX = {"default": "1000", "E48": "1000000"}


@pytest.fixture
def book():
    return make_book()


def test_defaults_scale_with_the_minor_unit(settings):
    settings.OTC_PLAUSIBLE_AMOUNT_MAX = {"default": "1000000000000"}
    settings.OTC_PLAUSIBLE_QUANTITY_MAX = {}
    assert plausible_max("USD") == D("1000000000000")
    assert plausible_max("JPY") == D("100000000000000")
    assert plausible_max("KWD") == D("100000000000")
    assert plausible_quantity_max() == D("1000000000") and plausible_quantity_max("E48") == D("1000000000000")


def test_a_currency_and_a_unit_of_their_own():
    assert plausible_max("EUR") == D("1000000") and plausible_max("USD") == D("1000000000000")
    assert check_plausible(D("999999.99"), "EUR") == D("999999.99")
    with pytest.raises(InvalidAmount, match="beyond the plausible maximum of 1,000,000 EUR"):
        check_plausible(D("1000000.00"), "EUR")
    with pytest.raises(InvalidAmount, match="beyond the plausible maximum of 1,000"):
        check_plausible_quantity(D("1000"))
    assert check_plausible_quantity(D("5000"), "E48") == D("5000")


def test_a_receipt_beyond_the_limit_is_refused_and_nothing_is_recorded(book):
    with pytest.raises(InvalidAmount, match="plausible maximum of 1,000,000 EUR"):
        record(book, "1000000.00")
    assert not Receipt.objects.exists()


def test_an_application_and_a_refund_beyond_the_limit_are_refused(book):
    receipt = record(book, "1190.00")
    with pytest.raises(InvalidAmount, match="plausible maximum"):
        receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("2000000.00"))],
                      by=user_with_role("Cash Application Specialist"))
    assert not ReceiptApplication.objects.exists()


def test_a_manual_invoice_line_beyond_the_limits_is_refused(book):
    before = Invoice.objects.count()
    line = {"description": "Consulting", "tax_category": "digital"}
    with pytest.raises(InvalidAmount, match="Line 1: the unit price 2000000.00 EUR is beyond"):
        draft(book["entity"], customer=book["customer"], lines=[{**line, "quantity": D("1"),
                                                                  "unit_price": D("2000000.00")}])
    with pytest.raises(InvalidAmount, match="quantity of 5000 is beyond the plausible maximum of 1,000"):
        draft(book["entity"], customer=book["customer"], lines=[{**line, "quantity": D("5000"),
                                                                  "unit_price": D("1.00")}])
    assert Invoice.objects.count() == before


def test_a_credit_note_amount_beyond_the_limit_says_so(book):
    with pytest.raises(InvalidAmount, match="plausible maximum"):
        credit_note_request(invoice_id=book["first"].pk, by=specialist(), reason="goodwill", explanation="x",
                            amount=D("5000000.00"))
    assert not CreditNote.objects.exists()


def test_promises_and_disputes_beyond_the_limit_are_refused(book, today):
    today(dt.date(2026, 4, 2))
    collector = user_with_role("Collector")
    with pytest.raises(InvalidAmount, match="plausible maximum"):
        promise_take(customer_id=book["customer"].pk, by=collector, promised_date=dt.date(2026, 4, 20),
                     invoice_ids=[book["first"].pk], amount=D("3000000.00"))
    with pytest.raises(InvalidAmount, match="plausible maximum"):
        dispute_open(invoice_id=book["first"].pk, by=collector, reason="price", amount=D("3000000.00"))
    assert not PromiseToPay.objects.exists() and not Dispute.objects.exists()


def _api(api_client, *scopes):
    _, token = integration_client(scopes=list(scopes))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def _post(api, url, body):
    return api.post(url, data=json.dumps(body), content_type="application/json")


def test_the_api_answers_400_invalid_amount_for_a_receipt_and_a_ticket(api_client, book):
    rep = user_with_role("Sales Rep", username="sam", email="sam@otc.example")
    book["customer"].sales_owner = rep
    book["customer"].save()
    api = _api(api_client, "receipts:write", "tickets:write")
    receipt = _post(api, "/api/v1/receipts/", {"bank_account": book["account"].pk, "value_date": "2026-04-01",
                                               "amount": "1500000.00", "bank_reference": "BIG-1"})
    assert receipt.status_code == 400 and receipt.json()["error"] == "invalid_amount", receipt.content
    assert "1,000,000 EUR" in receipt.json()["message"]
    ticket = _post(api, "/api/v1/tickets/", {"requester": "sam@otc.example", "category": "other", "subject": "s",
                                             "description": "d", "customer_id": book["customer"].pk,
                                             "amount": "1500000.00"})
    assert ticket.status_code == 400 and ticket.json()["fields"] == {"amount": ["implausibly large"]}
    assert not Receipt.objects.exists() and not Ticket.objects.exists()


def test_a_credit_limit_beyond_the_limit_is_refused_for_finance_too(api_client, book):
    api_client.force_authenticate(user_with_role("Finance Manager"))
    response = api_client.patch(f"/api/v1/customers/{book['customer'].pk}/", data=json.dumps(
        {"credit_limit": "2000000.00"}), content_type="application/json")
    assert response.status_code == 400 and "plausible maximum" in response.json()["message"], response.content
    book["customer"].refresh_from_db()
    assert book["customer"].credit_limit != D("2000000.00")
