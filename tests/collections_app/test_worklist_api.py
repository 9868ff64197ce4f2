"""The collections API: a customer's collections status for the CRM (hold from the registry hook),
disputes and promises read and created with the `collections:*` scopes and an Idempotency-Key,
refusals (scope, another rep's customer), and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from collections_app.models import Dispute, PromiseToPay
from collections_app.services.activities import activity_log
from otc.registry import registry
from tests.factories.collections_worklist import book, collector
from tests.factories.otc import integration_client

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def setup(today):
    today(dt.date(2026, 4, 10))
    return book()


def crm(api_client, *scopes: str, name: str = "CRM"):
    client, token = integration_client(scopes=list(scopes), name=name)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def post(client, url, body, key="k-1"):
    return client.post(url, data=json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_customer_collections_status(api_client, setup, monkeypatch):
    _, customer, first, second = setup
    activity_log(customer_id=customer.pk, by=collector(), kind="call", outcome="promised", note="Will pay",
                 promise={"promised_date": dt.date(2026, 4, 20), "invoice_ids": [first.pk]})
    monkeypatch.setitem(registry.hooks, "customer_collections_hold",
                        [lambda customer_id: {"reason": "Over 60 days", "since": "2026-04-01"}])
    client = crm(api_client, "collections:read")
    body = client.get(f"/api/v1/customers/{customer.pk}/collections/").json()
    assert body["status"] == "promised" and body["hold"] == {"reason": "Over 60 days", "since": "2026-04-01"}
    [eur] = body["totals"]
    assert (eur["open"], eur["overdue"], eur["promised"], eur["collectible"]) == ("1785.00", "1785.00", "1190.00",
                                                                                "595.00")
    assert eur["overdue_by_bucket"][0] == {"bucket": "1-30", "amount": "1785.00"}
    assert [p["amount"] for p in body["promises"]] == ["1190.00"]
    assert body["last_contact"]["outcome"] == "promised"
    assert body["next_action_date"] == "2026-04-24"
    assert client.get("/api/v1/customers/999999/collections/").status_code == 404


def test_create_a_dispute_and_a_payment_plan_idempotently(api_client, setup):
    _, customer, first, second = setup
    client = crm(api_client, "collections:read", "collections:write")
    body = {"invoice_id": first.pk, "reason": "price", "amount": "119.00", "description": "Wrong price list"}
    created = post(client, "/api/v1/disputes/", body)
    again = post(client, "/api/v1/disputes/", body)
    assert created.status_code == 201, created.json()
    assert again.json() == created.json() and Dispute.objects.count() == 1
    assert (created.json()["amount"], created.json()["source"], created.json()["status"]) == ("119.00", "api", "open")
    plan = post(client, "/api/v1/promises/", {"customer_id": customer.pk, "invoice_ids": [second.pk], "instalments": [
        {"date": "2026-04-30", "amount": "300.00"}, {"date": "2026-05-31", "amount": "295.00"}]}, key="k-2")
    assert plan.status_code == 201, plan.json()
    assert [(p["instalment"], p["amount"]) for p in plan.json()] == [(1, "300.00"), (2, "295.00")]
    listed = client.get(f"/api/v1/promises/?customer={customer.pk}").json()
    assert len(listed["results"] if isinstance(listed, dict) else listed) == 2
    # a float amount and an unknown query parameter are 400s
    bad = post(client, "/api/v1/disputes/", {**body, "amount": 1.5}, key="k-3")
    assert bad.status_code == 400
    assert client.get("/api/v1/disputes/?overdue=1").status_code == 400


def test_scopes_decide(api_client, setup):
    _, customer, first, _ = setup
    client = crm(api_client, "collections:read")
    response = post(client, "/api/v1/promises/", {"customer_id": customer.pk, "invoice_ids": [first.pk],
                                                  "promised_date": "2026-04-20"})
    assert response.status_code == 403
    assert not PromiseToPay.objects.exists()
    client = crm(api_client, "invoices:read", name="ERP")
    assert client.get(f"/api/v1/customers/{customer.pk}/collections/").status_code == 403


def test_the_schema_documents_the_endpoints(api_client, setup):
    from tests.factories.otc import user_with_role

    api_client.force_authenticate(user_with_role("Controller"))
    schema = api_client.get("/api/v1/schema/?format=json").json()
    assert {"/api/v1/customers/{id}/collections/", "/api/v1/disputes/", "/api/v1/promises/"} <= set(schema["paths"])
