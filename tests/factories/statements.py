"""Shared test helpers (moved from tests/receivables/test_statements.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from billing.services import credit_note_approve, credit_note_issue, credit_note_request, invoices_issue
from otc.models import ApprovalLimit
from receivables.services import receipt_apply, receipt_record, receipt_refund
from tests.factories.billing import de_entity, draft
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.receivables import cash_app

D = Decimal


def invoice(entity, customer, net: str, *, on: dt.date = dt.date(2026, 3, 31), terms: int = 30):
    made = draft(entity, customer=customer, payment_terms_days=terms, lines=[
        {"description": "Subscription", "quantity": D("1"), "unit_price": D(net), "tax_category": "digital"}])
    return invoices_issue(invoice_ids=[made.pk], by=None, issue_date=on, queue_documents=False)[0]

def receipt(world, amount: str, on: dt.date):
    return receipt_record(by=cash_app(), data={
        "bank_account_id": world["account"].pk, "value_date": on, "amount": D(amount),
        "customer_id": world["customer"].pk, "payer_name": "KUNDE EINS GMBH"})

@pytest.fixture(name="world")
def world_fixture(today):
    from receivables.services import bank_account_create

    entity = de_entity()
    account = bank_account_create(legal_entity_id=entity.pk, name="Operating EUR", account_number="DE89370400440532013000",
                                  currency="EUR", by=user_with_role("Controller"))
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH")
    first = invoice(entity, customer, "1000.00")   # 1,190.00 due 2026-04-30
    second = invoice(entity, customer, "500.00")   # 595.00 due 2026-04-30
    ApprovalLimit.objects.create(kind="credit_note", role=Group.objects.get(name="Finance Manager"), currency="EUR",
                                 max_amount=D("10000.00"))
    # April: 500.00 paid on the first invoice; 119.00 credited on the second; 300.00 paid without
    # an invoice to apply it to, 50.00 of it refunded.
    today(dt.date(2026, 4, 10))
    partial = receipt({"account": account, "customer": customer}, "500.00", dt.date(2026, 4, 10))
    receipt_apply(receipt_id=partial.pk, allocations=[(first.pk, D("500.00"))], by=cash_app())
    today(dt.date(2026, 4, 15))
    note = credit_note_request(invoice_id=second.pk, by=user_with_role("Collector"), reason="goodwill",
                               explanation="Outage", amount=D("100.00"))
    credit_note_approve(credit_note_id=note.pk, by=user_with_role("Finance Manager"))
    note = credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"), issue_date=dt.date(2026, 4, 15))
    today(dt.date(2026, 4, 20))
    extra = receipt({"account": account, "customer": customer}, "300.00", dt.date(2026, 4, 20))
    today(dt.date(2026, 4, 25))
    receipt_refund(receipt_id=extra.pk, amount=D("50.00"), by=user_with_role("Finance Manager"), reason="Overpaid")
    today(dt.date(2026, 5, 2))
    return {"entity": entity, "account": account, "customer": customer, "first": first, "second": second,
            "note": note, "partial": partial, "extra": extra}
