"""Opening AR balances migrated from the previous system: one open item per legacy invoice,
posted through the ledger (debit AR for the customer, credit opening-balance equity), with
document dates over the last months so that aging shows current and overdue items."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from customers.models import Customer
from ledger.models import JournalEntry, LegalEntity
from ledger.services import LineSpec, OpenItemSpec, journal_post
from otc.models import User
from otc.money import quantize

ENTITY_FOR_CURRENCY = {"USD": "US01", "JPY": "US01", "EUR": "DE01", "GBP": "GB01"}


def seed_opening_balances(*, today: dt.date, by: User, share: float = 0.45, seed: int = 7) -> int:
    r = random.Random(seed)
    entities = {e.code: e for e in LegalEntity.objects.all()}
    customers = list(Customer.objects.exclude(status=Customer.Status.INACTIVE).order_by("id"))
    posted = 0
    for customer in customers:
        if r.random() > share:
            continue
        entity = entities[ENTITY_FOR_CURRENCY.get(customer.default_currency, "US01")]
        for n in range(r.choice([1, 1, 2, 3])):
            days_ago = r.choice([5, 12, 20, 35, 48, 62, 75, 95, 130, 200])
            if customer.status in (Customer.Status.ON_HOLD, Customer.Status.BLOCKED):
                days_ago += 60
            document_date = today - dt.timedelta(days=days_ago)
            amount = Decimal(r.choice([1_250, 2_400, 3_100, 4_800, 7_500, 12_000, 18_600, 26_400])) + Decimal(
                r.randint(0, 99)) / 100
            if customer.default_currency == "JPY":
                amount = quantize(amount * 150, "JPY")
            number = f"LEG-{customer.account_number}-{n + 1}"
            journal_post(
                legal_entity_id=entity.id, kind=JournalEntry.Kind.OPENING, document_date=document_date,
                currency=customer.default_currency, by=by, memo=f"Opening balance: legacy invoice {number}",
                source_reference=number,
                lines=[
                    LineSpec(amount=amount, role="ar", customer_id=customer.id, description=f"Legacy invoice {number}",
                             open_item=OpenItemSpec("opening", number, document_date,
                                                    document_date + dt.timedelta(days=customer.payment_terms_days))),
                    LineSpec(amount=-amount, role="opening_balance", description=f"Legacy invoice {number}"),
                ],
            )
            posted += 1
    return posted
