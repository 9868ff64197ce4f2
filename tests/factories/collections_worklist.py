"""Factories and helpers for the worklist, disputes and promises tests (i10a)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.models import Invoice
from tests.factories.billing import de_entity, draft
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

D = Decimal
ISSUED_ON = dt.date(2026, 3, 1)  # due 2026-03-31 on 30 days' terms


def collector(**kwargs):
    return user_with_role("Collector", **kwargs)


def manager(**kwargs):
    return user_with_role("Finance Manager", **kwargs)


def issued_for(entity, customer, *prices: str, on: dt.date = ISSUED_ON) -> Invoice:
    """An issued invoice for the customer: one line per net price, German VAT 19%."""
    from billing.services import invoices_issue

    invoice = draft(entity, customer=customer, lines=[
        {"description": f"Service {i}", "quantity": D("1"), "unit_price": D(price), "tax_category": "digital"}
        for i, price in enumerate(prices, start=1)])
    return invoices_issue(invoice_ids=[invoice.pk], by=None, issue_date=on, queue_documents=False)[0]


def book(**customer_kwargs):
    """A DE entity, a customer and two issued invoices (1,190.00 and 595.00, due 2026-03-31)."""
    entity = de_entity()
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH", **customer_kwargs)
    return entity, customer, issued_for(entity, customer, "1000.00"), issued_for(entity, customer, "500.00")


def pay(entity, invoice, amount: str, *, on: dt.date = dt.date(2026, 4, 20)):
    """Record a receipt from the invoice's customer and apply it to the invoice."""
    from receivables.models import BankAccount
    from receivables.services import bank_account_create, receipt_apply, receipt_record

    account = BankAccount.objects.filter(legal_entity=entity, currency=invoice.currency).first() or bank_account_create(
        legal_entity_id=entity.pk, name=f"Operating {invoice.currency}", account_number=f"ACC-{entity.code}",
        currency=invoice.currency, by=user_with_role("Controller"))
    cash = user_with_role("Cash Application Specialist")
    receipt = receipt_record(by=cash, data={
        "bank_account_id": account.pk, "value_date": on, "amount": D(amount), "customer_id": invoice.customer_id,
        "bank_reference": f"REF-{invoice.pk}-{amount}-{on}", "payer_name": "Payer", "payer_account": "",
        "remittance": invoice.number})
    return receipt_apply(receipt_id=receipt.pk, allocations=[(invoice.pk, D(amount))], by=cash)
