"""The AR subledger: invoices open items, receipts settle them, never past zero; reversals."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger.models import JournalEntry, OpenItem
from ledger.selectors import ar_reconciliation, customer_balance
from ledger.services import LineSpec, OpenItemSpec, OverSettlement, journal_post, journal_reverse
from otc.errors import DomainError, ValidationFailed
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import FxRateFactory, LegalEntityFactory, post_invoice, post_receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoiced():
    entity, customer = LegalEntityFactory(), CustomerFactory()
    entry = post_invoice(entity, customer, "1190.00", number="INV-100")
    return entity, customer, entry, OpenItem.objects.get()


def test_invoice_opens_an_item(invoiced):
    entity, customer, entry, item = invoiced
    assert (item.customer, item.legal_entity, item.currency, item.document_number) == (customer, entity, "EUR", "INV-100")
    assert (item.original_amount, item.open_amount) == (Decimal("1190.00"), Decimal("1190.00"))
    assert item.due_date == dt.date(2026, 4, 9)


def test_partial_settlement_reduces_the_open_amount(invoiced):
    entity, customer, _, item = invoiced
    post_receipt(item, "190.00")
    item.refresh_from_db()
    assert item.open_amount == Decimal("1000.00")
    assert sum(line.amount for line in item.lines.all()) == Decimal("1000.00")
    assert customer_balance(customer_id=customer.id)[0]["balance"] == Decimal("1000.00")


def test_over_settlement_is_refused_and_nothing_written(invoiced):
    _, _, _, item = invoiced
    post_receipt(item, "1000.00")
    with pytest.raises(OverSettlement, match=r"INV-100: its open balance is 190\.00 EUR; moving it by -190\.01"):
        post_receipt(item, "190.01")
    item.refresh_from_db()
    assert item.open_amount == Decimal("190.00")
    assert JournalEntry.objects.count() == 2


def test_two_lines_on_one_item_in_one_entry_are_checked_together(invoiced):
    entity, customer, _, item = invoiced
    with pytest.raises(OverSettlement):
        journal_post(legal_entity_id=entity.id, kind="receipt", document_date=dt.date(2026, 3, 20), by=None, lines=[
            LineSpec(Decimal("1200.00"), role="cash"),
            LineSpec(Decimal("-600.00"), role="ar", customer_id=customer.id, settle_item_id=item.id),
            LineSpec(Decimal("-600.00"), role="ar", customer_id=customer.id, settle_item_id=item.id),
        ])


def test_settling_another_customers_item_is_refused(invoiced):
    entity, _, _, item = invoiced
    other = CustomerFactory()
    with pytest.raises(ValidationFailed, match="another customer"):
        journal_post(legal_entity_id=entity.id, kind="receipt", document_date=dt.date(2026, 3, 20), by=None, lines=[
            LineSpec(Decimal("10.00"), role="cash"),
            LineSpec(Decimal("-10.00"), role="ar", customer_id=other.id, settle_item_id=item.id),
        ])


def test_reversal_of_a_settled_invoice_is_refused(invoiced):
    _, _, entry, item = invoiced
    post_receipt(item, "1190.00")
    with pytest.raises(OverSettlement, match="outside 0 to 1,?190.00"):
        journal_reverse(entry_id=entry.id, by=None)
    assert not JournalEntry.objects.filter(reverses=entry).exists()


def test_reversal_of_a_receipt_restores_the_open_balance_exactly(invoiced):
    entity, _, _, item = invoiced
    receipt = post_receipt(item, "400.00")
    reversal = journal_reverse(entry_id=receipt.id, by=None)
    item.refresh_from_db()
    assert item.open_amount == Decimal("1190.00")
    assert (reversal.kind, reversal.reverses, receipt.reversed_by) == ("reversal", receipt, reversal)
    assert sorted((line.account.code, line.amount) for line in reversal.lines.all()) == [
        ("1000", Decimal("-400.00")), ("1100", Decimal("400.00")),
    ]
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.id))
    with pytest.raises(DomainError, match="already been reversed"):
        journal_reverse(entry_id=receipt.id, by=None)


def test_reversal_of_an_open_invoice_closes_its_item(invoiced):
    _, customer, entry, item = invoiced
    journal_reverse(entry_id=entry.id, by=None, document_date=dt.date(2026, 3, 31))
    item.refresh_from_db()
    assert item.open_amount == Decimal("0")
    assert customer_balance(customer_id=customer.id) == []


def test_reversal_negates_functional_amounts_exactly():
    entity, customer = LegalEntityFactory(functional_currency="USD"), CustomerFactory()
    FxRateFactory(date=dt.date(2026, 1, 1), from_currency="JPY", to_currency="USD", rate=Decimal("0.0066666667"))
    entry = journal_post(legal_entity_id=entity.id, kind="invoice", document_date=dt.date(2026, 3, 2), currency="JPY",
                         by=None, lines=[
        LineSpec(Decimal("1001"), role="ar", customer_id=customer.id,
                 open_item=OpenItemSpec("invoice", "JP-7", dt.date(2026, 3, 2), dt.date(2026, 4, 1))),
        LineSpec(Decimal("-667"), role="revenue"), LineSpec(Decimal("-334"), role="tax_payable"),
    ])
    reversal = journal_reverse(entry_id=entry.id, by=None)
    original = [(line.account_id, line.amount, line.functional_amount) for line in entry.lines.order_by("id")]
    reversed_ = [(line.account_id, -line.amount, -line.functional_amount) for line in reversal.lines.order_by("id")]
    assert original == reversed_
    assert [f for _, _, f in original] == [Decimal("6.68"), Decimal("-4.45"), Decimal("-2.23")]
