"""Factories for dunning, credit holds and placements: an EU entity with a three-level policy,
issued invoices (real billing documents, so disputes and promises apply), bank statements."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from billing.models import Invoice
from collections_app.models import DunningPolicy
from collections_app.services.dunning import dunning_policy_save
from customers.models import Customer
from tests.factories.customers import ContactFactory, CustomerFactory

D = Decimal
ISSUE = dt.date(2026, 3, 31)  # due 2026-04-30 on 30-day terms
DUE = dt.date(2026, 4, 30)
_sha = itertools.count(1)

LEVELS = [
    {"number": 1, "days_after_due": 7, "template": "friendly", "channel": "email"},
    {"number": 2, "days_after_due": 21, "template": "firm", "channel": "email", "charge_interest": True},
    {"number": 3, "days_after_due": 45, "template": "final", "channel": "letter", "escalate": True,
     "charge_fee": True, "charge_interest": True},
]


def eu_entity(code: str = "DE01", **kwargs):
    from tests.factories.billing import de_entity

    return de_entity(code, **kwargs)


def policy_for(entity, *, levels=None, **data) -> DunningPolicy:
    payload = {"language": "de", "sender_name": "Forderungsmanagement", "reference_rate": D("2.50"), **data}
    return dunning_policy_save(legal_entity_id=entity.pk, by=None, data=payload, levels=levels or LEVELS)


def customer(name: str = "Kunde GmbH", email: str = "ap@kunde.example", **kwargs) -> Customer:
    made = CustomerFactory(country="DE", legal_name=name, **kwargs)
    if email:
        ContactFactory(customer=made, email=email, is_billing_contact=True)
    return made


def invoice(entity, cust: Customer, amount: str = "1000.00", *, issue: dt.date = ISSUE) -> Invoice:
    """An issued invoice of `amount` net (19% VAT on top: gross = amount * 1.19)."""
    from billing.services import invoices_issue
    from tests.factories.billing import draft

    made = draft(entity, customer=cust, lines=[{"description": "Subscription", "quantity": D("1"),
                                                 "unit_price": D(amount), "tax_category": "digital", "unit": "MON"}])
    return invoices_issue(invoice_ids=[made.pk], by=None, issue_date=issue, queue_documents=False)[0]


def bank_statement(entity, on: dt.date, *, account=None):
    """An active bank account of the entity whose last imported statement is dated `on`."""
    from receivables.models import BankAccount, BankStatement, StatementImport
    from tests.factories.ledger import account as ledger_account

    account = account or BankAccount.objects.filter(legal_entity=entity).first() or BankAccount.objects.create(
        legal_entity=entity, name="Operating EUR", account_number=f"DE{entity.pk:02d}370400440532013000",
        currency="EUR", gl_account=ledger_account(entity, "cash"))
    upload = StatementImport.objects.create(file_name="s.xml", format="camt053", sha256=f"{next(_sha):064d}")
    BankStatement.objects.create(statement_import=upload, bank_account=account, statement_date=on)
    return account


def agency_for(entity, *, name: str = "Inkasso Nord GmbH", fee_percent: str = "20"):
    """An agency of the entity with a collection-fee expense account (6200)."""
    from collections_app.services.agency import agency_save
    from ledger.models import Account

    account, _ = Account.objects.get_or_create(legal_entity=entity, code="6200", defaults={
        "name": "Collection agency fees", "type": Account.Type.EXPENSE})
    return agency_save(legal_entity_id=entity.pk, name=name, fee_percent=D(fee_percent), fee_account_id=account.pk,
                       by=None, contact_name="Frau Berger", email="fall@inkasso-nord.example")
