"""/api/v1/write-offs/: scopes, requests with an Idempotency-Key, refusals in the one error shape."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from collections_app.models import WriteOff
from tests.factories.collections import DisputeFactory
from tests.factories.collections_writeoffs import book
from tests.factories.otc import integration_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/write-offs/"


@pytest.fixture
def b(today):
    today(dt.date(2026, 6, 30))
    return book()


def client_with(*scopes: str, name: str = "Collections bot") -> APIClient:
    _, token = integration_client(scopes=list(scopes), name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def post(client, body, **headers):
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def test_a_request_is_created_once_per_idempotency_key_and_read_back(b):
    api = client_with("write_offs:read", "write_offs:write")
    body = {"invoice_ids": [b["invoices"][0].pk], "reason": "bankruptcy", "explanation": "Chapter 7 filing"}
    first = post(api, body, HTTP_IDEMPOTENCY_KEY="wo-1")
    again = post(api, body, HTTP_IDEMPOTENCY_KEY="wo-1")
    assert first.status_code == 201 and again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert WriteOff.objects.count() == 1
    data = api.get(f"{URL}{first.json()['id']}/").json()
    assert (data["status"], data["amount"], data["currency"], data["lines"][0]["amount"]) == (
        "submitted", "1190.00", "EUR", "1190.00")
    assert api.get(URL, {"status": "submitted"}).json()["results"][0]["number"] == data["number"]
    assert api.get(URL, {"nonsense": "1"}).status_code == 400


def test_scopes_are_enforced_and_a_disputed_invoice_is_refused(b):
    reader = client_with("write_offs:read", name="Reader")
    assert post(reader, {"invoice_ids": [b["invoices"][0].pk], "reason": "bankruptcy"}).status_code == 403
    assert client_with("invoices:read", name="Other").get(URL).status_code == 403
    DisputeFactory(invoice=b["invoices"][0], amount=Decimal("10.00"))
    writer = client_with("write_offs:write", name="Writer")
    refused = post(writer, {"invoice_ids": [b["invoices"][0].pk], "reason": "bankruptcy", "explanation": "x"})
    assert refused.status_code == 400 and refused.json()["error"] == "disputed"
    assert "open dispute" in refused.json()["message"] and not WriteOff.objects.exists()


def test_the_endpoints_are_in_the_openapi_schema(b):
    from tests.factories.api_schema import fetch_schema

    paths = fetch_schema()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/write-offs/"])
    assert "get" in paths["/api/v1/write-offs/{id}/"]
    assert paths["/api/v1/write-offs/"]["post"]["summary"] == "Request a write-off"


def test_a_written_off_invoice_reads_so_in_the_invoice_api(b):
    from collections_app.services.writeoffs import writeoff_approve, writeoff_post, writeoff_request

    invoice = b["invoices"][0]
    write_off = writeoff_request(invoice_ids=[invoice.pk], reason="bankruptcy", explanation="x", by=b["collector"])
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    writeoff_post(write_off_id=write_off.pk, by=b["controller"])
    data = client_with("invoices:read", name="ERP").get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert (data["status"], data["payment_status"], data["amount_written_off"], data["balance_due"]) == (
        "written_off", "written_off", "1190.00", "0.00")
