"""Every write body refuses unknown fields (issue 15): write-offs, tickets and their replies,
receipt applications, webhook subscriptions (create, change, rotate, replay) and the actions
that take no body at all. Nothing is written by a refused request. Lenient amounts ("1,234.56",
"+10.00", non-ASCII digits, floats) are refused on the ticket amount as everywhere else."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from collections_app.models import WriteOff
from helpdesk.models import Comment, Ticket
from otc.models import WebhookSubscription
from otc.webhooks.services import webhook_subscription_create
from receivables.models import ReceiptApplication
from tests.factories.otc import integration_client, user_with_role
from tests.factories.receivables import make_book, record

pytestmark = pytest.mark.django_db
UNKNOWN = {"colour": "red"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def book():
    return make_book()


def _token(api_client, *scopes, name="CRM"):
    client, token = integration_client(scopes=list(scopes), name=name)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _post(api, url, body, method="post"):
    return getattr(api, method)(url, data=json.dumps(body), content_type="application/json")


def _refused(response, *names):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "validation_error"
    for name in names:
        assert name in body["fields"], body
    return body


def test_a_write_off_request_refuses_an_unknown_field(api_client, book):
    api_client.force_authenticate(user_with_role("Collector"))
    _refused(_post(api_client, "/api/v1/write-offs/",
                   {"invoice_ids": [book["first"].pk], "reason": "uncollectible", **UNKNOWN}), "colour")
    assert WriteOff.objects.count() == 0


def test_a_receipt_application_refuses_unknown_fields_at_every_level(api_client, book):
    receipt = record(book, "1190.00")
    api_client.force_authenticate(user_with_role("Cash Application Specialist"))
    url = f"/api/v1/receipts/{receipt.pk}/apply/"
    _refused(_post(api_client, url, {"allocations": [{"invoice_id": book["first"].pk, "amount": "1190.00"}],
                                     **UNKNOWN}), "colour")
    body = _refused(_post(api_client, url, {"allocations": [{"invoice_id": book["first"].pk, "amount": "1190.00",
                                                             "note": "x"}]}))
    assert body["fields"]["allocations"]["0"]["note"] == ["Unknown field: this endpoint does not take it."]
    assert ReceiptApplication.objects.filter(receipt=receipt).count() == 0


def test_tickets_and_replies_refuse_unknown_fields_and_lenient_amounts(api_client, book):
    rep = user_with_role("Sales Rep", username="sam", email="sam@otc.example")
    book["customer"].sales_owner = rep
    book["customer"].save()
    _token(api_client, "tickets:read", "tickets:write")
    base = {"requester": "sam@otc.example", "category": "other", "subject": "A question", "description": "Why?",
            "customer_id": book["customer"].pk}
    _refused(_post(api_client, "/api/v1/tickets/", {**base, **UNKNOWN}), "colour")
    for amount in ("1,234.56", "+10.00", "١٠", 10.5, "1e3"):
        _refused(_post(api_client, "/api/v1/tickets/", {**base, "amount": amount}), "amount")
    assert Ticket.objects.count() == 0

    created = _post(api_client, "/api/v1/tickets/", {**base, "amount": "150.00"})
    assert created.status_code == 201, created.content
    ticket = Ticket.objects.get()
    assert str(ticket.amount) == "150.0000" and ticket.currency == "EUR"
    _refused(_post(api_client, f"/api/v1/tickets/{ticket.reference}/comments/", {"body": "News?", **UNKNOWN}),
             "colour")
    assert Comment.objects.filter(ticket=ticket).count() == 0


def test_a_ticket_amount_with_too_many_decimals_says_so(api_client, book):
    rep = user_with_role("Sales Rep", username="sam", email="sam@otc.example")
    book["customer"].sales_owner = rep
    book["customer"].save()
    _token(api_client, "tickets:write")
    response = _post(api_client, "/api/v1/tickets/", {
        "requester": "sam", "category": "other", "subject": "s", "description": "d",
        "customer_id": book["customer"].pk, "amount": "10.001"})
    assert response.status_code == 400
    assert "more than 2 decimal places, which EUR does not allow" in response.json()["message"]
    assert Ticket.objects.count() == 0


def test_webhook_subscription_bodies_refuse_unknown_fields(api_client):
    client = _token(api_client, "customers:read", "webhooks:manage")
    subs = "/api/v1/webhooks/subscriptions/"
    _refused(_post(api_client, subs, {"url": "https://crm.example/h", "event_types": ["customer.*"], **UNKNOWN}),
             "colour")
    assert WebhookSubscription.objects.count() == 0
    subscription, _ = webhook_subscription_create(client_id=client.pk, url="https://crm.example/h",
                                                  event_types=["customer.*"], by=client.created_by)
    detail = f"{subs}{subscription.pk}/"
    _refused(_post(api_client, detail, {"description": "x", **UNKNOWN}, method="patch"), "colour")
    _refused(_post(api_client, f"{detail}rotate-secret/", {"overlap_hours": 1, **UNKNOWN}), "colour")
    _refused(_post(api_client, f"{detail}replay-events/", {"since": "2026-01-01T00:00:00Z", **UNKNOWN}), "colour")
    _refused(_post(api_client, f"{detail}disable/", UNKNOWN), "colour")
    subscription.refresh_from_db()
    assert subscription.description == "" and subscription.is_active
    assert _post(api_client, f"{detail}disable/", {}).status_code == 200
    subscription.refresh_from_db()
    assert not subscription.is_active
