"""A small book for the aging tests: one EUR entity, two customers, invoices of several ages,
a partial payment, an unapplied credit note and unapplied cash, all posted through the ledger."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger.services import LineSpec, OpenItemSpec, journal_post
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory, post_invoice, post_receipt
from tests.shared_data import built_once, fresh_copy

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(autouse=True)
def _fresh_aging_cache():
    """The page and API cache reports per state of the books, keyed by row ids; a rolled-back test
    database hands the same ids out again, so each test starts with an empty cache."""
    from django.core.cache import cache

    from receivables.aging.cache import recent_reports_clear

    cache.clear()
    recent_reports_clear()
    yield
    cache.clear()
    recent_reports_clear()


def item_of(entry):
    return entry.lines.get(account__role="ar").open_item


def post_credit(entity, customer, amount, date, number):
    amount = Decimal(amount)
    return journal_post(legal_entity_id=entity.id, kind="credit_note", document_date=date, by=None, currency="EUR",
                        source_reference=number, lines=[
                            LineSpec(amount, role="revenue"),
                            LineSpec(-amount, role="ar", customer_id=customer.id,
                                     open_item=OpenItemSpec("credit_note", number, date, date))])


def post_cash(entity, customer, amount, date, number):
    amount = Decimal(amount)
    return journal_post(legal_entity_id=entity.id, kind="receipt", document_date=date, by=None, currency="EUR",
                        source_reference=number, lines=[
                            LineSpec(amount, role="cash"),
                            LineSpec(-amount, role="unapplied_cash", customer_id=customer.id,
                                     open_item=OpenItemSpec("receipt", number, date, date))])


@pytest.fixture(scope="module")
def _aging_book(django_db_setup, django_db_blocker):
    """Built once per test module (tests/shared_data.py); each test gets its own copy."""
    yield from built_once(django_db_blocker, _build_aging_book)


@pytest.fixture
def aging_book(_aging_book, db):
    return fresh_copy(_aging_book)


def _build_aging_book():
    """As of 2026-06-30 (due dates 30 days after the document date):
    Acme: A1 1,000.00 due 06-30 (current); A2 500.00 due 05-31 (30 days: 1-30); A3 2,000.00 due
          03-31 (91 days: 91-120), 600.00 of it paid on 06-15; credit note 100.00 (06-20);
    Beta: B1 300.00 due 01-31 (150 days: over 120); unapplied cash 50.00 (06-25); B2 700.00
          issued 07-05 (after the as-of date)."""
    entity = LegalEntityFactory(code="AG1", functional_currency="EUR")
    acme = CustomerFactory(legal_name="Acme GmbH")
    beta = CustomerFactory(legal_name="Beta SA", country="FR")
    a1 = post_invoice(entity, acme, "1000.00", number="A1", date=dt.date(2026, 5, 31), currency="EUR")
    a2 = post_invoice(entity, acme, "500.00", number="A2", date=dt.date(2026, 5, 1), currency="EUR")
    a3 = post_invoice(entity, acme, "2000.00", number="A3", date=dt.date(2026, 3, 1), currency="EUR")
    post_receipt(item_of(a3), "600.00", date=dt.date(2026, 6, 15))
    post_credit(entity, acme, "100.00", dt.date(2026, 6, 20), "CN1")
    b1 = post_invoice(entity, beta, "300.00", number="B1", date=dt.date(2026, 1, 1), currency="EUR")
    post_cash(entity, beta, "50.00", dt.date(2026, 6, 25), "R1")
    b2 = post_invoice(entity, beta, "700.00", number="B2", date=dt.date(2026, 7, 5), currency="EUR")
    return {"entity": entity, "acme": acme, "beta": beta, "a1": a1, "a2": a2, "a3": a3, "b1": b1, "b2": b2}
