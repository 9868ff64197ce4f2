"""Receipts and cash application: postings, statuses, refusals, reversals, refunds, returns.
After every operation the AR control and unapplied-cash accounts equal their open items."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import Invoice
from ledger.models import JournalLine, OpenItem
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from receivables.models import BankAccount, PayerAlias, Receipt, ReceiptApplication
from receivables.services import (
    ReceiptInput,
    application_reverse,
    bank_account_create,
    receipt_apply,
    receipt_identify,
    receipt_put_on_account,
    receipt_record,
    receipt_refund,
    receipt_reverse,
    receipts_record,
)
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.receivables import PAID_ON, cash_app, issue_for, reconciled, record

pytestmark = pytest.mark.django_db
D = Decimal


# --- recording ---------------------------------------------------------------------------------

def test_bank_account_takes_the_entitys_cash_account_and_refuses_duplicates(book):
    account = book["account"]
    assert (account.account_number, account.gl_account.code, account.currency) == ("DE89370400440532013000", "1000", "EUR")
    with pytest.raises(ValidationFailed, match="already exists"):
        bank_account_create(legal_entity_id=book["entity"].pk, name="x", account_number="de89370400440532013000",
                            currency="EUR", by=user_with_role("Controller"))
    with pytest.raises(PermissionDenied):
        bank_account_create(legal_entity_id=book["entity"].pk, name="x", account_number="X1", currency="EUR",
                            by=cash_app())


def test_an_identified_receipt_posts_cash_against_the_customers_unapplied_cash(book):
    receipt = record(book, "1190.00", reference="BANKREF-1")
    assert (receipt.number, receipt.status, receipt.unapplied_amount) == ("RC-DE01-2026-000001", "unapplied", D("1190.00"))
    lines = sorted((line.account.code, line.amount, line.customer_id) for line in receipt.journal_entry.lines.all())
    assert lines == [("1000", D("1190.0000"), None), ("2100", D("-1190.0000"), book["customer"].pk)]
    assert (receipt.open_item.original_amount, receipt.open_item.document_type) == (D("-1190.0000"), "receipt")
    assert receipt.payer_account == "DE02120300000000202051"
    assert reconciled(book["entity"])


def test_an_unidentified_receipt_waits_in_suspense(book):
    receipt = record(book, "100.00", customer=False)
    assert receipt.open_item is None and receipt.customer is None
    assert sorted(line.account.code for line in receipt.journal_entry.lines.all()) == ["1000", "1900"]


def test_duplicate_bank_references_are_skipped_in_a_batch_and_refused_by_hand(book):
    item = ReceiptInput(bank_account_id=book["account"].pk, value_date=PAID_ON, amount=D("10.00"), bank_reference="R-1")
    first = receipts_record(items=[item, item], by=cash_app())
    assert len(first) == 1 and first.duplicates == [item]
    again = receipts_record(items=[item, ReceiptInput(**{**item.__dict__, "bank_reference": "R-2"})], by=cash_app())
    assert [r.bank_reference for r in again] == ["R-2"] and again.duplicates == [item]
    with pytest.raises(ValidationFailed, match="already recorded"):
        record(book, "10.00", reference="R-1")
    assert Receipt.objects.count() == 2


@pytest.mark.parametrize(("amount", "currency", "message"), [
    ("0", "EUR", "not a positive amount"), ("-5.00", "EUR", "not a positive amount"),
    ("10.001", "EUR", "10.001 has more than 2 decimal places, which EUR does not allow"),
    ("10.00", "USD", "does not go into"), ("1000000000000.00", "EUR", "beyond the plausible maximum"),
])
def test_bad_receipts_are_refused_and_write_nothing(book, amount, currency, message):
    with pytest.raises(ValidationFailed, match=message):
        receipt_record(by=cash_app(), data={"bank_account_id": book["account"].pk, "value_date": PAID_ON,
                                            "amount": D(amount), "currency": currency})
    assert not Receipt.objects.exists() and not JournalLine.objects.filter(entry__kind="receipt").exists()


def test_recording_needs_the_permission(book):
    with pytest.raises(PermissionDenied):
        record(book, "10.00", by=user_with_role("Billing Specialist"))


# --- applying ----------------------------------------------------------------------------------

def test_applying_in_full_pays_the_invoice_and_settles_both_items(book):
    receipt = record(book, "1190.00")
    [application] = receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1190.00"))], by=cash_app())
    receipt.refresh_from_db()
    invoice = Invoice.objects.get(pk=book["first"].pk)
    assert (receipt.status, receipt.amount_applied, receipt.unapplied_amount) == ("applied", D("1190.00"), 0)
    assert (invoice.status, invoice.amount_paid, invoice.balance_due) == ("paid", D("1190.00"), 0)
    assert OpenItem.objects.get(pk=invoice.open_item_id).open_amount == 0
    assert OpenItem.objects.get(pk=receipt.open_item_id).open_amount == 0
    lines = sorted((line.account.code, line.amount) for line in application.journal_entry.lines.all())
    assert lines == [("1100", D("-1190.0000")), ("2100", D("1190.0000"))]
    assert application.journal_entry.kind == "application"
    assert reconciled(book["entity"])


def test_one_receipt_split_over_two_invoices_leaves_the_rest_partly_paid(book):
    receipt = record(book, "1500.00")
    receipt_apply(receipt_id=receipt.pk, by=cash_app(),
                  allocations=[(book["first"].pk, D("1190.00")), (book["second"].pk, D("310.00"))])
    receipt.refresh_from_db()
    first, second = Invoice.objects.get(pk=book["first"].pk), Invoice.objects.get(pk=book["second"].pk)
    assert (first.status, second.status, second.balance_due) == ("paid", "partially_paid", D("285.00"))
    assert (receipt.status, receipt.unapplied_amount) == ("applied", 0)
    assert ReceiptApplication.objects.filter(receipt=receipt).count() == 2
    assert reconciled(book["entity"])


def test_over_applying_a_receipt_or_overpaying_an_invoice_is_refused_and_writes_nothing(book):
    receipt = record(book, "1000.00")
    with pytest.raises(ValidationFailed, match="left to apply"):
        receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1000.01"))], by=cash_app())
    big = record(book, "5000.00")
    with pytest.raises(ValidationFailed, match="past its balance"):
        receipt_apply(receipt_id=big.pk, allocations=[(book["second"].pk, D("595.01"))], by=cash_app())
    assert not ReceiptApplication.objects.exists()
    assert Invoice.objects.get(pk=book["second"].pk).amount_paid == 0
    assert reconciled(book["entity"])


def test_cash_is_applied_only_to_the_same_customer_currency_and_entity(book):
    other = issue_for(book["entity"], CustomerFactory(country="DE"), ["100.00"])
    receipt = record(book, "1190.00")
    with pytest.raises(ValidationFailed, match="receipt; the invoices are"):
        receipt_apply(receipt_id=receipt.pk, allocations=[(other.pk, D("10.00"))], by=cash_app())
    with pytest.raises(ValidationFailed, match="several"):
        receipt_apply(receipt_id=record(book, "5.00", customer=False).pk, by=cash_app(),
                      allocations=[(other.pk, D("1.00")), (book["first"].pk, D("1.00"))])


def test_applying_an_unidentified_receipt_identifies_it_and_learns_the_payer(book):
    receipt = record(book, "595.00", customer=False, payer="Kunde Eins GmbH (Zahlung)")
    receipt_apply(receipt_id=receipt.pk, allocations=[(book["second"].pk, D("595.00"))], by=cash_app())
    receipt.refresh_from_db()
    assert receipt.customer_id == book["customer"].pk and receipt.identify_entry is not None
    assert sorted(line.account.code for line in receipt.identify_entry.lines.all()) == ["1900", "2100"]
    assert set(PayerAlias.objects.values_list("kind", "customer_id")) == {("name", book["customer"].pk),
                                                                          ("account", book["customer"].pk)}
    assert reconciled(book["entity"])


def test_applying_needs_the_permission_and_a_live_receipt(book):
    receipt = record(book, "100.00")
    for role in ("Billing Specialist", "Sales Rep", "Collector"):
        with pytest.raises(PermissionDenied):
            receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1.00"))], by=user_with_role(role))
    receipt_reverse(receipt_id=receipt.pk, by=cash_app(), reason="Returned: account closed")
    with pytest.raises(InvalidTransition, match="reversed"):
        receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1.00"))], by=cash_app())


# --- reversing, on account, refunds, returns ---------------------------------------------------------

def test_reversing_an_application_reopens_the_invoice_exactly(book):
    receipt = record(book, "1190.00")
    [application] = receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1190.00"))], by=cash_app())
    application_reverse(application_id=application.pk, by=cash_app(), reason="Applied to the wrong invoice")
    application.refresh_from_db()
    receipt.refresh_from_db()
    invoice = Invoice.objects.get(pk=book["first"].pk)
    assert application.reversed_at is not None and application.reversal_entry.reverses_id == application.journal_entry_id
    assert (invoice.status, invoice.amount_paid, receipt.status, receipt.unapplied_amount) == (
        "issued", 0, "unapplied", D("1190.00"))
    assert OpenItem.objects.get(pk=invoice.open_item_id).open_amount == D("1190.0000")
    with pytest.raises(InvalidTransition, match="already been reversed"):
        application_reverse(application_id=application.pk, by=cash_app(), reason="again")
    assert reconciled(book["entity"])


def test_on_account_then_refund_pays_the_cash_back(book):
    receipt = record(book, "300.00")
    receipt_put_on_account(receipt_id=receipt.pk, by=cash_app(), note="Customer asked to keep it as a credit")
    with pytest.raises(PermissionDenied):
        receipt_refund(receipt_id=receipt.pk, amount=D("300.00"), by=cash_app(), reason="Overpaid")
    manager = user_with_role("Finance Manager")
    receipt_refund(receipt_id=receipt.pk, amount=D("300.00"), by=manager, reason="Customer closed the account")
    receipt.refresh_from_db()
    assert (receipt.status, receipt.amount_refunded, receipt.unapplied_amount) == ("refunded", D("300.00"), 0)
    assert OpenItem.objects.get(pk=receipt.open_item_id).open_amount == 0
    cash = JournalLine.objects.filter(account__code="1000").values_list("amount", flat=True)
    assert sum(cash) == 0
    assert reconciled(book["entity"])


def test_a_returned_receipt_reopens_every_invoice_it_paid(book):
    receipt = record(book, "1785.00", customer=False)
    receipt_apply(receipt_id=receipt.pk, by=cash_app(),
                  allocations=[(book["first"].pk, D("1190.00")), (book["second"].pk, D("595.00"))])
    receipt_reverse(receipt_id=receipt.pk, by=cash_app(), reason="Returned: insufficient funds (R01)")
    receipt.refresh_from_db()
    assert (receipt.status, receipt.reversal_reason) == ("reversed", "Returned: insufficient funds (R01)")
    assert [Invoice.objects.get(pk=book[k].pk).status for k in ("first", "second")] == ["issued", "issued"]
    assert OpenItem.objects.get(pk=receipt.open_item_id).open_amount == 0
    for code in ("1000", "1900", "2100"):
        assert sum(JournalLine.objects.filter(account__code=code).values_list("amount", flat=True)) == 0
    assert reconciled(book["entity"])
    with pytest.raises(InvalidTransition, match="already reversed"):
        receipt_reverse(receipt_id=receipt.pk, by=cash_app(), reason="again")


def test_a_returned_receipt_applied_twice_to_one_invoice_takes_back_both_applications(book):
    # found by the state machine (test_stateful.py): 0.01 applied twice to one invoice, then the
    # receipt returned left the invoice 0.01 paid with no live application
    receipt = record(book, "300.00")
    for amount in ("0.01", "0.01", "120.00"):
        receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D(amount))], by=cash_app())
    receipt_reverse(receipt_id=receipt.pk, by=cash_app(), reason="R01 insufficient funds")
    invoice = Invoice.objects.get(pk=book["first"].pk)
    assert (invoice.amount_paid, invoice.status) == (0, "issued")
    assert OpenItem.objects.get(pk=invoice.open_item_id).open_amount == D("1190.0000")
    assert not ReceiptApplication.objects.filter(receipt=receipt, reversed_at__isnull=True).exists()
    assert reconciled(book["entity"])


def test_identify_refuses_a_receipt_that_already_has_its_customer(book):
    receipt = record(book, "10.00")
    with pytest.raises(InvalidTransition, match="already"):
        receipt_identify(receipt_id=receipt.pk, customer_id=CustomerFactory().pk, by=cash_app())
    account = BankAccount.objects.get()
    assert account.receipts.count() == 1
