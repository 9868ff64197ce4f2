"""Statement import end to end: a file becomes receipts (all or nothing), duplicates are skipped,
and the matcher applies what it is sure of and leaves the rest with its suggestions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Invoice
from ledger.selectors import ar_reconciliation
from otc.errors import Conflict, PermissionDenied, ValidationFailed
from receivables.models import Receipt, ReceiptApplication, StatementImport
from receivables.parsers import CsvMapping
from receivables.services import bank_account_create, statement_import
from tests.factories.billing import de_entity
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.receivables import issue_for

pytestmark = pytest.mark.django_db
D = Decimal
MAPPING = CsvMapping(date="Date", amount="Amount", currency="Currency", payer_name="Payer",
                     payer_account="Payer Account", remittance=("Reference", "Description"),
                     bank_reference="Transaction ID", account_number="DE89370400440532013000")
HEADER = "Date,Amount,Currency,Payer,Payer Account,Reference,Description,Transaction ID\n"


@pytest.fixture
def setup(today):
    today(dt.date(2026, 4, 21))
    entity = de_entity()
    bank_account_create(legal_entity_id=entity.pk, name="Operating EUR", account_number="DE89370400440532013000",
                        currency="EUR", by=user_with_role("Controller"))
    kunde = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH")
    other = CustomerFactory(country="DE", legal_name="Zweite Handels AG")
    invoices = {
        "k1": issue_for(entity, kunde, ["1000.00"]),   # 1,190.00  DE01-INV-2026-000001
        "k2": issue_for(entity, kunde, ["500.00"]),    #   595.00  DE01-INV-2026-000002
        "o1": issue_for(entity, other, ["2000.00"]),   # 2,380.00  DE01-INV-2026-000003
    }
    return {"entity": entity, "kunde": kunde, "other": other, **invoices}


def csv(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def test_a_statement_becomes_receipts_and_clear_ones_are_applied(setup):
    clerk = user_with_role("Cash Application Specialist")
    data = csv(
        "2026-04-20,1190.00,EUR,KUNDE EINS GMBH,DE02120300000000202051,DE01-INV-2026-000001,,T-1",
        "2026-04-20,2380.00,EUR,Zweite Handels AG,,Rechnung 2026-3,,T-2",
        "2026-04-20,77.00,EUR,Somebody Unknown,,,,T-3",
        "2026-04-20,-12.50,EUR,,,,Bank fee,T-4",
    )
    run = statement_import(data=data, file_name="april.csv", by=clerk, csv_mapping=MAPPING)
    assert (run.format, run.statements, run.receipts_created, run.debits_skipped, run.duplicates_skipped) == (
        "csv", 1, 3, 1, 0)
    assert run.auto_applied == 2
    assert Invoice.objects.get(pk=setup["k1"].pk).status == "paid"
    assert Invoice.objects.get(pk=setup["o1"].pk).status == "paid"
    auto = ReceiptApplication.objects.get(invoice=setup["k1"])
    assert auto.applied_by is None and auto.score >= 0.9 and "DE01-INV-2026-000001" in auto.reason
    unknown = Receipt.objects.get(bank_reference="T-3")
    assert (unknown.status, unknown.customer_id, unknown.match_status) == ("unapplied", None, "none")
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=setup["entity"].pk))


def test_the_same_file_twice_is_refused_and_repeated_lines_are_skipped(setup):
    clerk = user_with_role("Cash Application Specialist")
    first = csv("2026-04-20,10.00,EUR,A,,,,T-1")
    statement_import(data=first, file_name="a.csv", by=clerk, csv_mapping=MAPPING, auto_match=False)
    with pytest.raises(Conflict, match="already imported"):
        statement_import(data=first, file_name="a-again.csv", by=clerk, csv_mapping=MAPPING)
    overlapping = csv("2026-04-20,10.00,EUR,A,,,,T-1", "2026-04-21,20.00,EUR,B,,,,T-2")
    run = statement_import(data=overlapping, file_name="b.csv", by=clerk, csv_mapping=MAPPING, auto_match=False)
    assert (run.receipts_created, run.duplicates_skipped) == (1, 1)
    assert sorted(Receipt.objects.values_list("bank_reference", flat=True)) == ["T-1", "T-2"]


def test_a_malformed_or_foreign_file_is_refused_whole(setup):
    clerk = user_with_role("Cash Application Specialist")
    bad = csv("2026-04-20,10.00,EUR,A,,,,T-1", "2026-04-20,ten,EUR,B,,,,T-2")
    with pytest.raises(ValidationFailed) as refused:
        statement_import(data=bad, file_name="bad.csv", by=clerk, csv_mapping=MAPPING)
    assert "ten" in refused.value.message
    foreign = csv("2026-04-20,10.00,EUR,A,,,,T-9")
    with pytest.raises(ValidationFailed, match="not a bank account on file"):
        statement_import(data=foreign, file_name="x.csv", by=clerk,
                         csv_mapping=CsvMapping(**{**MAPPING.__dict__, "account_number": "GB00NOPE"}))
    assert not Receipt.objects.exists() and not StatementImport.objects.exists()


def test_importing_needs_the_permission(setup):
    with pytest.raises(PermissionDenied):
        statement_import(data=csv("2026-04-20,10.00,EUR,A,,,,T-1"), file_name="a.csv",
                         by=user_with_role("Billing Specialist"), csv_mapping=MAPPING)


@pytest.mark.parametrize("preload", [False, True], ids=["database-book", "preloaded-book"])
def test_two_payments_naming_one_invoice_pay_it_once(setup, monkeypatch, preload):
    from receivables.services import matching

    monkeypatch.setattr(matching, "PRELOAD_ABOVE", 0 if preload else 10_000)
    clerk = user_with_role("Cash Application Specialist")
    data = csv(
        "2026-04-20,1190.00,EUR,KUNDE EINS GMBH,,DE01-INV-2026-000001,,T-1",
        "2026-04-20,1190.00,EUR,KUNDE EINS GMBH,,DE01-INV-2026-000001,,T-2",   # paid twice by mistake
        "2026-04-20,595.00,EUR,Kunde Eins,,INV 2026/2,,T-3",
    )
    run = statement_import(data=data, file_name="twice.csv", by=clerk, csv_mapping=MAPPING)
    assert run.auto_applied == 2
    first, second, third = (Receipt.objects.get(bank_reference=f"T-{n}") for n in (1, 2, 3))
    assert (first.status, third.status) == ("applied", "applied")
    assert second.status in ("unapplied", "on_account") and second.amount_applied == 0
    assert Invoice.objects.get(pk=setup["k1"].pk).amount_paid == D("1190.00")
    assert Invoice.objects.get(pk=setup["k2"].pk).status == "paid"
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=setup["entity"].pk))


def test_near_match_reference_for_another_customers_same_amount_invoice_is_never_applied(setup):
    """Issue 13: a reference one swap away from another customer's open invoice of the same amount,
    with no payer to veto it, goes to a person; nothing is applied or posted for it."""
    twin = issue_for(setup["entity"], setup["other"], ["1000.00"])  # 1,190.00, DE01-INV-2026-000004
    assert twin.number.endswith("000004")
    clerk = user_with_role("Cash Application Specialist")
    run = statement_import(data=csv("2026-04-20,1190.00,EUR,,,DE01-INV-2026-000040,,T-9"), file_name="t.csv",
                           by=clerk, csv_mapping=MAPPING)
    receipt = Receipt.objects.get(bank_reference="T-9")
    assert run.auto_applied == 0 and not ReceiptApplication.objects.filter(receipt=receipt).exists()
    assert (receipt.status, receipt.customer_id, receipt.amount_applied) == ("unapplied", None, D("0"))
    twin.refresh_from_db()
    assert (twin.status, twin.amount_paid) == ("issued", D("0"))
    for suggestion in receipt.suggestions:
        if "invoice_number_typo" in suggestion["rules"]:
            assert suggestion["auto"] is False and suggestion["score"] < 0.9


def test_an_identified_payer_leaves_suspense_even_when_its_invoices_are_unclear(setup):
    clerk = user_with_role("Cash Application Specialist")
    statement_import(data=csv("2026-04-20,333.00,EUR,PAYMENT FROM KUNDE EINS GMBH ACCOUNTS PAYABLE,,,,T-8"),
                     file_name="t.csv", by=clerk, csv_mapping=MAPPING)
    receipt = Receipt.objects.get(bank_reference="T-8")
    assert receipt.customer_id == setup["kunde"].pk and receipt.status == "unapplied"
    assert receipt.identify_entry is not None and receipt.open_item.open_amount == D("-333.00")
    assert not ReceiptApplication.objects.filter(receipt=receipt).exists()
    assert all(row["difference"] == 0 for row in ar_reconciliation())


def test_a_background_import_reads_the_open_invoices_once_for_all_its_chunks(setup, monkeypatch):
    """A 10,000-line file is matched in chunks; the open invoices are read into memory once for the
    whole import (not once per chunk), and later chunks see what earlier ones applied."""
    import dataclasses

    from receivables.services import imports, matching

    monkeypatch.setattr(matching, "PRELOAD_ABOVE", 0)
    monkeypatch.setattr(imports, "MATCH_CHUNK", 1)
    built = []
    original = matching.PreloadedBook.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(matching.PreloadedBook, "__init__", counting)
    clerk = user_with_role("Cash Application Specialist")
    data = csv(
        "2026-04-20,1190.00,EUR,KUNDE EINS GMBH,,DE01-INV-2026-000001,,T-1",
        "2026-04-20,1190.00,EUR,KUNDE EINS GMBH,,DE01-INV-2026-000001,,T-2",  # the same invoice again
        "2026-04-20,2380.00,EUR,Zweite Handels AG,,Rechnung 2026-3,,T-3",
    )
    queued = StatementImport.objects.create(
        file_name="big.csv", format="csv", sha256="b" * 64, imported_by=clerk, status=StatementImport.Status.QUEUED,
        pending_data=data, pending_options={"format": "", "csv": dataclasses.asdict(MAPPING)})
    run = imports.statement_import_run(import_id=queued.pk)
    assert (run.status, run.receipts_created, run.receipts_matched, run.auto_applied) == ("done", 3, 3, 2)
    assert len(built) == 1
    assert Invoice.objects.get(pk=setup["k1"].pk).amount_paid == D("1190.00")
    assert Receipt.objects.get(bank_reference="T-2").amount_applied == 0


@pytest.mark.parametrize("preloaded", [False, True])
def test_the_book_counts_an_invoice_partly_written_off_at_its_balance_due(setup, monkeypatch, preloaded):
    """An invoice partly written off stays open for the rest; the matcher's book (per query or read
    into memory for a large file) offered its amount before the write-off, so a receipt paying the rest
    was taken for a partial payment and not applied."""
    from billing.services import invoices_record_write_offs
    from receivables.services import matching

    # given 190.00 of the 1,190.00 invoice k1 written off
    invoices_record_write_offs(changes={setup["k1"].pk: D("190.00")}, by=None, note="small balance")
    assert Invoice.objects.get(pk=setup["k1"].pk).balance_due == D("1000.00")
    monkeypatch.setattr(matching, "PRELOAD_ABOVE", 0 if preloaded else 10_000)
    book = matching.matching_book_for([Receipt(legal_entity_id=setup["entity"].pk)])
    assert isinstance(book, matching.PreloadedBook) == preloaded
    # when the book is asked, then the invoice is open for its balance due
    open_items = book.open_invoices(setup["kunde"].pk, setup["entity"].pk, "EUR")
    assert [(i.number, i.open_amount) for i in open_items] == [("DE01-INV-2026-000001", D("1000.00")),
                                                               ("DE01-INV-2026-000002", D("595.00"))]
    # and a receipt of the rest naming it is applied automatically and settles the invoice
    clerk = user_with_role("Cash Application Specialist")
    data = csv("2026-04-20,1000.00,EUR,KUNDE EINS GMBH,,DE01-INV-2026-000001,,T-1")
    statement_import(data=data, file_name="rest.csv", by=clerk, csv_mapping=MAPPING)
    invoice = Invoice.objects.get(pk=setup["k1"].pk)
    assert (invoice.status, invoice.amount_paid, invoice.amount_written_off, invoice.balance_due) == (
        "written_off", D("1000.00"), D("190.00"), 0)
