"""Receivables test helpers shared across test modules: a book (an entity, its bank account, a
customer with two issued invoices), receipts recorded on it, the reconciliation check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.models import Invoice
from ledger.selectors import ar_reconciliation
from receivables.models import Receipt
from receivables.services import bank_account_create, receipt_record
from tests.factories.billing import de_entity, draft
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

D = Decimal
PAID_ON = dt.date(2026, 4, 20)


def cash_app():
    return user_with_role("Cash Application Specialist")


def reconciled(entity) -> bool:
    rows = ar_reconciliation(legal_entity_id=entity.pk)
    return bool(rows) and all(row["difference"] == 0 for row in rows)


def issue_for(entity, customer, gross_lines) -> Invoice:
    from billing.services import invoices_issue

    invoice = draft(entity, customer=customer, lines=[
        {"description": "Subscription", "quantity": D("1"), "unit_price": D(price), "tax_category": "digital"}
        for price in gross_lines])
    return invoices_issue(invoice_ids=[invoice.pk], by=None, issue_date=dt.date(2026, 3, 31), queue_documents=False)[0]


def make_book() -> dict:
    """An EUR bank account of DE01; Kunde Eins with two issued invoices (1,190.00 and 595.00)."""
    entity = de_entity()
    controller = user_with_role("Controller")
    account = bank_account_create(legal_entity_id=entity.pk, name="Operating EUR", account_number="DE89 3704 0044 0532 0130 00",
                                  currency="EUR", by=controller)
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH")
    # 1,000.00 net + 19% = 1,190.00 ; 500.00 + 19% = 595.00
    first, second = issue_for(entity, customer, ["1000.00"]), issue_for(entity, customer, ["500.00"])
    return {"entity": entity, "account": account, "customer": customer, "first": first, "second": second}


def record(book, amount, *, customer=True, reference="", by=None, payer="KUNDE EINS GMBH", remittance="") -> Receipt:
    return receipt_record(by=by or cash_app(), data={
        "bank_account_id": book["account"].pk, "value_date": PAID_ON, "amount": D(amount),
        "customer_id": book["customer"].pk if customer else None, "bank_reference": reference,
        "payer_name": payer, "payer_account": "DE02 1203 0000 0000 2020 51", "remittance": remittance})
