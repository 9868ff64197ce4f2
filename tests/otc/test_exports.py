"""Spreadsheet formula injection (OWASP CSV injection): every export in the codebase writes its
cells through otc.exports, so text a spreadsheet would evaluate arrives as text.

When you add an export, add it to EXPORTS below (a test fails for any `csv.writer` or openpyxl
`append` outside otc/exports.py in the project code)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from customers.models import Customer
from otc.exports import csv_writer, neutralise_workbook, safe_cell, safe_row, workbook_bytes
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import books_fixture  # noqa: F401 (fixture)
from tests.factories.otc import user_with_role

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", PAYLOADS)
def test_text_a_spreadsheet_would_evaluate_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Acme GmbH", "", "-120.50", "+10", "-1e3", "1,190.00", Decimal("-5.00"), -3, 2.5,
                                   dt.date(2026, 3, 1), None, True, "a=b", "mail@acme.example"])
def test_everything_else_is_unchanged(value):
    assert safe_cell(value) == value


def test_csv_writer_neutralises_every_row():
    out = io.StringIO()
    csv_writer(out).writerows([["=1+1", "-7.00"], ["ok", "@x"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=1+1", "-7.00"], ["ok", "'@x"]]
    assert safe_row(("=a", 1)) == ["'=a", 1]


@pytest.mark.django_db
def test_customer_xlsx_export_keeps_a_formula_name_as_text(client):
    CustomerFactory(legal_name=PAYLOADS[0], display_name="@evil", account_number="C900001")
    client.force_login(user_with_role("Finance Manager"))

    response = client.get(reverse("customers:export"))

    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    row = {header[i]: cell for i, cell in enumerate(sheet[2])}
    assert row["legal_name"].value == "'" + PAYLOADS[0] and row["legal_name"].data_type == "s"
    assert row["display_name"].value == "'@evil"
    assert not any(cell.data_type == "f" for line in sheet.iter_rows() for cell in line)  # no formula anywhere


@pytest.mark.django_db
def test_gl_csv_export_keeps_a_formula_customer_name_as_text_and_amounts_as_numbers(client, books):  # noqa: F811
    Customer.objects.filter(pk=books["customer"].pk).update(legal_name="=1+1")
    client.force_login(user_with_role("Auditor"))

    response = client.get(reverse("ledger:gl_export"), {"entity": books["entity"].pk, "period": books["period"].pk})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    names = {r[10] for r in rows[1:] if r[10]}
    assert names == {"'=1+1"}
    assert [r[12] for r in rows[1:]] == ["1190.0000", "", "190.0000", ""]


def test_no_export_writes_cells_around_the_helper():
    """Project code writes CSV rows and openpyxl rows only through otc.exports."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "tests/", "bench/", "staticfiles/", "otc/exports.py")) or "/migrations/" in rel:
            continue
        text = path.read_text()
        if re.search(r"\bcsv\.(writer|DictWriter)\(", text) or re.search(r"\bsheet\.append\(|\.active\.append\(", text):
            offenders.append(rel)
    # demo/bankfiles.py writes a bank's CSV statement for the importer to read: input, not an export.
    assert offenders == ["demo/bankfiles.py"]


def _project_files():
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "tests/", "bench/", "staticfiles/", "otc/exports.py")) or "/migrations/" in rel:
            continue
        yield rel, path.read_text()


def test_every_workbook_is_saved_through_the_helper():
    """Walks every export: each module that builds an openpyxl workbook saves it through
    otc.exports.workbook_bytes, which neutralises every cell however it was written
    (`sheet.cell(value=...)`, `sheet["A1"] = ...`, `append`). A new export that saves a workbook
    itself fails here."""
    builders, offenders = [], []
    for rel, text in _project_files():
        if re.search(r"\bWorkbook\(\)|\bload_workbook\(", text) and re.search(r"\.save\(|workbook_bytes\(", text):
            builders.append(rel)
            if re.search(r"\b\w*(book|sheet)\w*\.save\(", text):
                offenders.append(rel)
    assert offenders == []
    assert {"customers/exports.py", "receivables/aging/exports.py", "receivables/aging/reports.py",
            "collections_app/exports_reserve.py", "collections_app/views/worklist.py", "helpdesk/views.py"} <= set(builders)


def test_a_workbook_is_neutralised_however_its_cells_were_written():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["A1"] = "=1+1"
    sheet.cell(row=2, column=1, value="@SUM(A1:A9)")
    sheet.append(["+1+cmd|' /C calc'!A0", "-120.50", Decimal("-5.00"), "Acme"])
    second = book.create_sheet("Other")
    second["B2"] = "\t=2+2"
    loaded = load_workbook(io.BytesIO(workbook_bytes(book)))
    values = [[c.value for c in row] for s in loaded.worksheets for row in s.iter_rows()]
    assert values[0][0] == "'=1+1" and values[1][0] == "'@SUM(A1:A9)"
    assert values[2] == ["'+1+cmd|' /C calc'!A0", "-120.50", -5, "Acme"]
    assert "'\t=2+2" in [v for row in values for v in row]
    assert not any(c.data_type == "f" for s in loaded.worksheets for row in s.iter_rows() for c in row)
    neutralise_workbook(book)  # idempotent: no second apostrophe
    assert book.active["A1"].value == "'=1+1"
