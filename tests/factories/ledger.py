from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import factory
import pytest
from django.utils import timezone

from customers.models import Customer
from ledger.models import Account, FxRate, JournalEntry, LegalEntity, OpenItem, Period
from ledger.services import LineSpec, OpenItemSpec, journal_post
from ledger.services.chart import chart_create_default
from otc.bulk import history_insert
from otc.models import User
from tests.factories.customers import CustomerFactory

TEST_PERIODS = [(year, month) for year in range(2024, 2029) for month in range(1, 13)]


class LegalEntityFactory(factory.django.DjangoModelFactory):
    """A legal entity with the standard chart of accounts."""

    class Meta:
        model = LegalEntity
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"E{n:02d}")
    name = factory.LazyAttribute(lambda o: f"otc {o.code}")
    legal_name = factory.LazyAttribute(lambda o: f"otc {o.code} Ltd")
    address_line1 = "1 Ledger Lane"
    city = "Dublin"
    country = "IE"
    tax_id = "IE6388047V"
    functional_currency = "EUR"
    invoice_prefix = factory.LazyAttribute(lambda o: f"{o.code}-INV")
    credit_note_prefix = factory.LazyAttribute(lambda o: f"{o.code}-CN")

    @factory.post_generation
    def chart(self, create, extracted, **kwargs):
        if create:
            chart_create_default(legal_entity=self)

    @factory.post_generation
    def periods(self, create, extracted, **kwargs):
        """Open periods for the months tests post into (TEST_PERIODS, all open); `periods=[]`
        for none, or a list of (year, month). Postings never create periods."""
        if not create:
            return
        months = TEST_PERIODS if extracted is None else extracted
        have = set(Period.objects.filter(legal_entity=self).values_list("year", "month"))
        created = Period.objects.bulk_create([Period(legal_entity=self, year=y, month=m) for y, m in months
                                              if (y, m) not in have])
        # their "+" history rows, copied by the database on PostgreSQL (otc.bulk.history_insert)
        history_insert(created, created=True, by=None, reason="", at=timezone.now(), saved=True)


def account(entity: LegalEntity, role: str) -> Account:
    return Account.objects.filter(legal_entity=entity, role=role).order_by("code").first()


class FxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FxRate
        django_get_or_create = ("date", "from_currency", "to_currency")

    date = dt.date(2026, 1, 1)
    from_currency = "USD"
    to_currency = "EUR"
    rate = Decimal("0.9000000000")


def post_invoice(
    entity: LegalEntity, customer: Customer, amount: str | Decimal, *, number: str | None = None,
    date: dt.date = dt.date(2026, 3, 10), due: dt.date | None = None, currency: str | None = None, by: User | None = None,
) -> JournalEntry:
    """Debit AR (opening an open item), credit revenue, in the entity's (or the given) currency."""
    amount = Decimal(amount)
    number = number or f"INV-{next(_numbers)}"
    return journal_post(
        legal_entity_id=entity.id, kind="invoice", document_date=date, currency=currency, by=by,
        source_reference=number, lines=[
            LineSpec(amount=amount, role="ar", customer_id=customer.id,
                     open_item=OpenItemSpec("invoice", number, date, due or date + dt.timedelta(days=30))),
            LineSpec(amount=-amount, role="revenue"),
        ],
    )


def post_receipt(item: OpenItem, amount: str | Decimal, *, date: dt.date = dt.date(2026, 3, 20), by: User | None = None) -> JournalEntry:
    """Cash received and applied to an open item: debit cash, credit AR settling the item."""
    amount = Decimal(amount)
    return journal_post(
        legal_entity_id=item.legal_entity_id, kind="receipt", document_date=date, currency=item.currency, by=by,
        lines=[
            LineSpec(amount=amount, role="cash"),
            LineSpec(amount=-amount, role="ar", customer_id=item.customer_id, settle_item_id=item.id),
        ],
    )


_numbers = itertools.count(1)


@pytest.fixture(name="books")
def books_fixture(today):
    today(dt.date(2026, 4, 15))
    entity = LegalEntityFactory(periods=[(2026, month) for month in range(1, 8)])  # opened through the horizon
    customer = CustomerFactory(legal_name="Panel GmbH")
    invoice = post_invoice(entity, customer, "1190.00", number="INV-77", date=dt.date(2026, 3, 1))
    item = OpenItem.objects.get()
    receipt = post_receipt(item, "190.00", date=dt.date(2026, 3, 20))
    period = Period.objects.get(legal_entity=entity, year=2026, month=3)
    return {"entity": entity, "customer": customer, "invoice": invoice, "receipt": receipt, "item": item, "period": period}
