"""Remittance advices: CSV and XLSX read with flexible headers, malformed files refused whole with
the row named, invoice numbers resolved exactly then in tolerant forms, applied all or nothing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from billing.models import Invoice
from ledger.models import JournalEntry
from otc.errors import PermissionDenied, ValidationFailed
from receivables.models import Receipt, ReceiptApplication
from receivables.services import receipt_apply_remittance, receipt_record, remittance_parse
from tests.factories.customers import CustomerFactory
from tests.factories.receivables import cash_app, issue_for, reconciled

pytestmark = pytest.mark.django_db
D = Decimal


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def receipt(book, amount: str, *, identified: bool = True) -> Receipt:  # noqa: F811
    return receipt_record(by=cash_app(), data={
        "bank_account_id": book["account"].pk, "value_date": dt.date(2026, 4, 20), "amount": D(amount),
        "customer_id": book["customer"].pk if identified else None, "payer_name": "KUNDE EINS GMBH"})


# --- reading ---------------------------------------------------------------------------------------

def test_csv_with_title_lines_semicolons_and_european_amounts():
    data = ("Remittance advice;;\nKunde Eins GmbH, payment of 2026-04-20;;\n;;\n"
            "Invoice No.;Date;Amount paid (EUR)\n"
            "DE01-INV-2026-000001;2026-03-31;1.190,00\n\n"
            "INV 2026/2;2026-03-31;595\n"
            "Total;;1.785,00\n").encode("cp1252")
    assert remittance_parse(data, "advice.csv") == [("DE01-INV-2026-000001", D("1190.00")), ("INV 2026/2", D("595"))]


@pytest.mark.parametrize(("header", "cells"), [
    (["Reference", "Paid"], ["R-1", "1,190.00"]),
    (["invoice_number", "payment_amount"], ["R-1", "EUR 1190.00"]),
    (["Number", "Amount"], ["R-1", "1190.00"]),
])
def test_csv_header_spellings(header, cells):
    data = "\n".join([",".join(header), ",".join(f'"{c}"' for c in cells)]).encode()
    assert remittance_parse(data, "a.csv") == [("R-1", D("1190.00"))]


def test_xlsx_with_numbers_as_numbers():
    data = xlsx([["Payment advice"], [], ["Customer", "Invoice", "Amount"], ["Kunde", "DE01-INV-2026-000001", 1190],
                 ["Kunde", 2, 595.5], [None, None, None], ["", "Total", 1785.5]])
    assert remittance_parse(data, "advice.xlsx") == [("DE01-INV-2026-000001", D("1190")), ("2", D("595.5"))]


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "a.csv", "a.csv: the file is empty"),
    (b"Customer,Date\nKunde,2026-04-20\n", "a.csv", "a.csv: no header row"),
    (b"Invoice,Amount\n", "a.csv", "a.csv: no invoices are listed"),
    (b"Invoice,Amount\nINV-1,100.00\nINV-2,abc\n", "a.csv", "a.csv, row 3: 'abc' is not an amount"),
    (b"Invoice,Amount\nINV-1,100.00\n,50.00\n", "a.csv", "a.csv, row 3: no invoice number"),
    (b"Invoice,Amount\nINV-1,\n", "a.csv", "a.csv, row 2: no amount for INV-1"),
    (b"Invoice,Amount\nINV-1,-5.00\n", "a.csv", "a.csv, row 2: the amount for INV-1 is not positive"),
    (b"PK\x03\x04 not really a workbook", "a.xlsx", "a.xlsx: not a readable XLSX workbook"),
])
def test_malformed_files_are_refused_whole_with_the_row_named(data, name, message):
    with pytest.raises(ValidationFailed) as refused:
        remittance_parse(data, name)
    assert refused.value.message.startswith(message), refused.value.message


def test_xlsx_row_numbers_are_the_sheets():
    data = xlsx([["Remittance"], ["Invoice", "Amount"], ["INV-1", 10], ["INV-2", "ten"]])
    with pytest.raises(ValidationFailed, match=r"advice.xlsx, row 4: 'ten' is not an amount"):
        remittance_parse(data, "advice.xlsx")


# --- applying --------------------------------------------------------------------------------------

def test_applies_exact_and_tolerant_numbers_in_one_go(book):  # noqa: F811
    first, second = book["first"], book["second"]
    paid = receipt(book, "1785.00")
    advice = f"Invoice,Amount\n{first.number.lower()},1190.00\nINV 2026/2,500.00\n#2,95.00\n".encode()

    applications = receipt_apply_remittance(receipt_id=paid.pk, data=advice, file_name="advice.csv", by=cash_app())

    assert sorted((a.invoice_id, a.amount, a.rule) for a in applications) == [
        (first.pk, D("1190.00"), "remittance"), (second.pk, D("595.00"), "remittance")]
    paid.refresh_from_db()
    assert (paid.status, paid.amount_applied) == ("applied", D("1785.00"))
    assert set(Invoice.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {"paid"}
    assert "advice.csv" in applications[0].reason
    assert reconciled(book["entity"])


def test_an_unidentified_receipt_applies_among_the_entitys_invoices_and_learns_who_paid(book):  # noqa: F811
    paid = receipt(book, "595.00", identified=False)
    data = xlsx([["Invoice number", "Paid"], ["2026-000002", 595]])

    receipt_apply_remittance(receipt_id=paid.pk, data=data, file_name="advice.xlsx", by=cash_app())

    paid.refresh_from_db()
    assert (paid.customer_id, paid.status) == (book["customer"].pk, "applied")
    assert reconciled(book["entity"])


def _nothing_written(paid: Receipt, before: int) -> None:
    paid.refresh_from_db()
    assert (paid.status, paid.amount_applied) == ("unapplied", 0)
    assert not ReceiptApplication.objects.exists()
    assert JournalEntry.objects.count() == before
    assert set(Invoice.objects.values_list("status", flat=True)) == {"issued"}


@pytest.mark.parametrize(("rows", "message"), [
    ("INV-2026-000001,100.00\nDE01-INV-2026-000099,50.00\n",
     "advice.csv was not applied: row 3: DE01-INV-2026-000099 is not among Kunde Eins GmbH's open invoices."),
    ("INV-2026-000001,1190.00\nINV-2026-000002,595.00\n",
     "advice.csv lists 1785.00 EUR; RC-DE01-2026-000001 has only 1000.00 EUR left to apply."),
    ("INV-2026-000002,600.00\n",
     "advice.csv was not applied: DE01-INV-2026-000002: 600.00 is more than its balance of 595.00 EUR."),
    ("INV-2026-000002,5.001\n",
     "advice.csv was not applied: row 2: 5.001 has more decimals than EUR allows."),
])
def test_refusals_write_nothing(book, rows, message):  # noqa: F811
    paid = receipt(book, "1000.00")
    before = JournalEntry.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        receipt_apply_remittance(receipt_id=paid.pk, data=f"Invoice,Amount\n{rows}".encode(), file_name="advice.csv",
                                 by=cash_app())
    assert refused.value.message == message
    _nothing_written(paid, before)


def test_another_customers_invoice_is_unknown_to_an_identified_receipt(book):  # noqa: F811
    stranger = issue_for(book["entity"], CustomerFactory(country="DE"), ["10.00"])
    paid = receipt(book, "100.00")
    before = JournalEntry.objects.count()
    with pytest.raises(ValidationFailed, match=f"{stranger.number} is not among Kunde Eins GmbH's open invoices"):
        receipt_apply_remittance(receipt_id=paid.pk, data=f"Invoice,Amount\n{stranger.number},11.90\n".encode(),
                                 file_name="advice.csv", by=cash_app())
    assert Invoice.objects.get(pk=stranger.pk).status == "issued"
    assert JournalEntry.objects.count() == before


def test_a_malformed_file_or_a_missing_permission_writes_nothing(book):  # noqa: F811
    from tests.factories.otc import user_with_role

    paid = receipt(book, "100.00")
    before = JournalEntry.objects.count()
    with pytest.raises(ValidationFailed, match="row 2"):
        receipt_apply_remittance(receipt_id=paid.pk, data=b"Invoice,Amount\nINV-2026-1,x\n", file_name="a.csv",
                                 by=cash_app())
    with pytest.raises(PermissionDenied):
        receipt_apply_remittance(receipt_id=paid.pk, data=b"Invoice,Amount\nINV-2026-000001,1.00\n", file_name="a.csv",
                                 by=user_with_role("Billing Specialist"))
    _nothing_written(paid, before)
