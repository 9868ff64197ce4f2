"""Shared test helpers (moved from tests/receivables/test_views.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from receivables.models import Receipt
from receivables.services import bank_account_create, receipt_record
from tests.factories.billing import de_entity
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.receivables import issue_for

D = Decimal

PAID_ON = dt.date(2026, 4, 20)

CASH_APP = "Cash Application Specialist"

def make_book(today) -> dict:
    """Today is 2026-04-21; an EUR bank account; Kunde Eins with two issued invoices."""
    today(dt.date(2026, 4, 21))
    entity = de_entity()
    account = bank_account_create(legal_entity_id=entity.pk, name="Operating EUR",
                                  account_number="DE89370400440532013000", currency="EUR",
                                  by=user_with_role("Controller"))
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH")
    first, second = issue_for(entity, customer, ["1000.00"]), issue_for(entity, customer, ["500.00"])  # 1,190 / 595
    return {"entity": entity, "account": account, "customer": customer, "first": first, "second": second}

def login(client, role: str):
    user = user_with_role(role)
    client.force_login(user)
    return user

def record(book, amount, *, customer=True, value_date=PAID_ON, reference="", payer="KUNDE EINS GMBH",
           remittance="") -> Receipt:
    return receipt_record(by=user_with_role(CASH_APP), data={
        "bank_account_id": book["account"].pk, "value_date": value_date, "amount": D(amount),
        "customer_id": book["customer"].pk if customer else None, "bank_reference": reference,
        "payer_name": payer, "remittance": remittance})
