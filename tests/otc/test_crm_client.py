"""docs/crm_client.py, the reference CRM client, walks a deal against a live test server over
real HTTP (127.0.0.1 only) and receives signed webhooks with its own listener."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.db import transaction

from billing.models import Invoice
from billing.services import billing_run_issue, billing_run_start, invoices_record_payments
from contracts import services as contract_services
from contracts.models import Contract
from contracts.risk_rules import payment_terms
from otc.models import ApprovalLimit, WebhookDelivery
from otc.tasks import webhooks_dispatch
from otc.webhooks import signing
from otc.webhooks.delivery import deliver
from tests.factories.billing import de_entity
from tests.factories.contracts import FinancePolicyFactory, ProductFactory
from tests.factories.otc import integration_client, role_group, user_with_role

CLIENT_PATH = Path(__file__).resolve().parents[2] / "docs" / "crm_client.py"
MARCH = dt.date(2026, 3, 1)


def load_reference_client():
    spec = importlib.util.spec_from_file_location("crm_client", CLIENT_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db(transaction=True)
def test_reference_client_walks_a_deal_and_verifies_webhooks(live_server, monkeypatch, today):
    crm_client = load_reference_client()
    today(dt.date(2026, 3, 15))
    monkeypatch.setattr("contracts.risk_rules.RULES", [payment_terms])
    entity = de_entity()
    FinancePolicyFactory(legal_entity=entity)
    ProductFactory(sku="PLAT", name="Platform", tax_category="digital")
    ApprovalLimit.objects.create(kind="contract", role=role_group("Contract Reviewer"), currency="EUR",
                                 max_amount=Decimal("100000"))
    reviewer = user_with_role("Contract Reviewer", username="reviewer")
    _, token = integration_client(name="CRM", scopes=[
        "customers:read", "customers:write", "contracts:read", "contracts:write", "invoices:read", "webhooks:manage"])
    api = crm_client.OtcClient(live_server.url, token)
    received = []
    listener = crm_client.WebhookListener([], received.append, port=0).start()
    try:
        subscription = api.subscribe(listener.url, ["customer.*", "contract.*", "invoice.*"])
        listener.secrets.append(subscription["secret"])

        # the CRM: customer upsert -> contract upsert -> submit
        deal = crm_client.walk_deal(api, crm_account_id="CRM-ACME-1", opportunity_id="OPP-1",
                                    legal_entity_id=entity.pk, product_sku="PLAT", start_date="2026-03-01",
                                    monthly_fee="1000.00", log=lambda _: None)
        contract_id = deal["contract"]["id"]
        assert deal["contract"]["current_version"]["status"] == "submitted"
        again = api.upsert_customer("CRM-ACME-1", legal_name="Acme Industrie GmbH", country="DE")
        assert again["id"] == deal["customer"]["id"]  # an upsert, not a second customer

        # finance reviews and bills it in otc
        version_id = Contract.objects.get(pk=contract_id).current_version_id
        contract_services.contract_decide(version_id=version_id, by=reviewer, decision="approved")
        assert crm_client.deal_status(api, contract_id) == {"contract": "active", "invoices": []}
        run = billing_run_start(period_start=MARCH, by=None)
        billing_run_issue(run_id=run.pk, by=user_with_role("Billing Specialist"))
        status = crm_client.deal_status(api, contract_id)
        [invoice] = status["invoices"]
        assert (invoice["status"], invoice["payment_status"], invoice["gross_total"], invoice["balance_due"]) == (
            "issued", "unpaid", "1190.00", "1190.00")

        # cash arrives and is applied (what receivables does on a matched receipt)
        invoice_row = Invoice.objects.get(contract_id=contract_id)
        with transaction.atomic():  # inside the receipt application's transaction, in receivables
            invoices_record_payments(changes={invoice_row.pk: Decimal("1190.00")}, by=None)
        [paid] = crm_client.deal_status(api, contract_id)["invoices"]
        assert (paid["payment_status"], paid["balance_due"]) == ("paid", "0.00")

        # the same story, pushed: signed webhooks, verified by the reference listener
        result = webhooks_dispatch()
        assert result["failed"] == 0 and listener.refused == 0
        types = [e["type"] for e in received]
        assert types[:1] == ["customer.created"]
        assert {"customer.updated", "contract.submitted", "contract.approved", "contract.activated",
                "invoice.issued", "invoice.paid"} <= set(types)
        assert types.index("invoice.issued") < types.index("invoice.paid")
        paid_event = next(e for e in received if e["type"] == "invoice.paid")
        assert paid_event["object"]["payment_status"] == "paid" and paid_event["object"]["id"] == invoice_row.pk

        # a forged or replayed-late message is refused; a duplicate is acknowledged once
        forged = requests.post(listener.url, data=json.dumps({"id": "evt_x"}),
                               headers={"OTC-Signature": "t=1,v1=00"}, timeout=5)
        assert forged.status_code == 400 and listener.refused == 1
        count = len(received)
        first = WebhookDelivery.objects.order_by("id").first()
        WebhookDelivery.objects.filter(pk=first.pk).update(status="pending")
        assert deliver(delivery_id=first.pk, replay=True) is True
        assert len(received) == count  # deduplicated on the event id
    finally:
        listener.stop()


def test_signature_check_matches_the_server_side():
    crm_client = load_reference_client()
    body = b'{"id":"evt_7","type":"invoice.paid"}'
    header = signing.signature_header(["whsec_a", "whsec_b"], body)

    assert crm_client.verify_signature(header, body, ["whsec_b"])
    assert not crm_client.verify_signature(header, body, ["whsec_c"])
    assert not crm_client.verify_signature(header, body.replace(b"7", b"8"), ["whsec_a"])
