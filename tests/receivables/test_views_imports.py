"""Statement import page (upload, counts, duplicate and malformed files, CSV presets), manual
receipts, bank accounts, and the dashboard and customer panels."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.models import Invoice
from receivables.forms import CSV_PRESETS
from receivables.models import BankAccount, Receipt, StatementImport
from receivables.selectors import unapplied_cash_by_age
from receivables.services import receipt_apply
from tests.factories.otc import user_with_role
from tests.factories.receivables_views import CASH_APP, login, make_book, record

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def book(today):
    return make_book(today)


HEADER = "Date,Amount,Currency,Payer,Payer Account,Reference,Description,Transaction ID\n"


def csv(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def upload(client, data: bytes, *, name: str = "april.csv", account=None, **fields):
    payload = {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "preset": "signed_iso",
               "bank_account": account.pk if account else "", **fields}
    return client.post(reverse("receivables:imports"), payload, follow=True)


def test_upload_a_csv_statement_shows_the_counts(client, book):
    login(client, CASH_APP)
    data = csv(
        "2026-04-20,1190.00,EUR,KUNDE EINS GMBH,DE02120300000000202051,DE01-INV-2026-000001,,T-1",
        "2026-04-20,77.00,EUR,Somebody Unknown,,,,T-3",
        "2026-04-20,-12.50,EUR,,,,Bank fee,T-4",
    )
    response = upload(client, data, account=book["account"])
    run = StatementImport.objects.get()
    assert response.redirect_chain[-1][0] == reverse("receivables:import_detail", args=[run.pk])
    body = response.content.decode()
    assert ("april.csv: 2 receipts recorded, 1 applied automatically, 0 duplicates skipped, "
            "1 debit (money out) not recorded.") in body
    assert 'data-testid="count-receipts">2<' in body and 'data-testid="count-debits">1<' in body
    assert Invoice.objects.get(pk=book["first"].pk).status == "paid"
    unknown = Receipt.objects.get(bank_reference="T-3")
    assert unknown.number in body
    listing = client.get(reverse("receivables:imports")).content.decode()
    assert "april.csv" in listing and "Operating EUR" in listing


def test_the_same_file_again_is_refused_with_the_message(client, book):
    login(client, CASH_APP)
    data = csv("2026-04-20,10.00,EUR,A,,,,T-1")
    upload(client, data, account=book["account"])
    response = upload(client, data, name="again.csv", account=book["account"])
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="import-errors"' in body
    assert "again.csv was already imported on" in body and "nothing was imported again" in body
    assert StatementImport.objects.count() == 1 and Receipt.objects.count() == 1


def test_a_malformed_file_is_refused_with_the_line_named(client, book):
    login(client, CASH_APP)
    response = upload(client, csv("2026-04-20,10.00,EUR,A,,,,T-1", "2026-04-20,ten,EUR,B,,,,T-2"),
                      account=book["account"])
    body = response.content.decode()
    assert "Line 3" in body and "amount &#x27;ten&#x27; is not a number" in body
    assert not StatementImport.objects.exists() and not Receipt.objects.exists()


def test_a_csv_without_its_bank_account_is_refused_on_the_form(client, book):
    login(client, CASH_APP)
    body = upload(client, csv("2026-04-20,10.00,EUR,A,,,,T-1")).content.decode()
    assert "A CSV statement does not name its account: choose the bank account." in body
    assert not StatementImport.objects.exists()


def test_the_german_preset_reads_semicolons_comma_decimals_and_credit_debit_columns(client, book):
    login(client, CASH_APP)
    german = dict(next(p for p in CSV_PRESETS if p.key == "german").mapping)
    columns = ["Buchungstag", "Valuta", "Auftraggeber/Empfänger", "IBAN", "Verwendungszweck", "Soll", "Haben",
               "Währung", "Referenz"]
    assert {german[k] for k in ("date", "value_date", "payer_name", "payer_account", "debit", "credit", "currency",
                                "bank_reference")} | set(german["remittance"]) == set(columns)
    data = ";".join(columns) + "\n" + "\n".join([
        "20.04.2026;20.04.2026;Kunde Eins GmbH;DE02120300000000202051;Rechnung DE01-INV-2026-000002;;595,00;EUR;R-1",
        "20.04.2026;20.04.2026;Irgendwer;;Spende;;1.234,56;EUR;R-2",
        "20.04.2026;20.04.2026;Bank;;Gebühr;12,50;;EUR;R-3",
    ]) + "\n"
    response = upload(client, data.encode(), name="umsaetze.csv", account=book["account"], preset="german")
    assert "umsaetze.csv: 2 receipts recorded" in response.content.decode()
    assert Receipt.objects.get(bank_reference="R-2").amount == D("1234.56")
    assert Invoice.objects.get(pk=book["second"].pk).status == "paid"


def test_overriding_a_preset_column(client, book):
    login(client, CASH_APP)
    data = "Date,Betrag,Currency,Payer,Payer Account,Reference,Description,Transaction ID\n2026-04-20,10.00,EUR,A,,,,T-1\n"
    response = upload(client, data.encode(), account=book["account"], amount="Betrag")
    assert "1 receipt recorded" in response.content.decode()


def test_import_needs_the_permission(client, book):
    login(client, "Finance Manager")
    page = client.get(reverse("receivables:imports"))
    assert page.status_code == 200 and 'data-testid="upload-form"' not in page.content.decode()
    response = client.post(reverse("receivables:imports"), {
        "file": SimpleUploadedFile("a.csv", csv("2026-04-20,10.00,EUR,A,,,,T-1")), "bank_account": book["account"].pk})
    assert response.status_code == 403
    assert not StatementImport.objects.exists()


# --- manual receipts and bank accounts ---------------------------------------------------------

def test_manual_receipt_is_recorded_and_opens_its_page(client, book):
    login(client, CASH_APP)
    response = client.post(reverse("receivables:receipt_new"), {
        "bank_account": book["account"].pk, "value_date": "2026-04-20", "amount": "1,190.00",
        "payer_name": "Kunde Eins", "bank_reference": "CHQ-100", "customer": book["customer"].pk}, follow=True)
    receipt = Receipt.objects.get()
    assert response.redirect_chain[-1][0] == reverse("receivables:receipt_detail", args=[receipt.pk])
    assert f"Receipt {receipt.number} for 1,190.00 EUR recorded." in response.content.decode()
    assert (receipt.source, receipt.amount, receipt.customer_id) == ("manual", D("1190.00"), book["customer"].pk)
    again = client.post(reverse("receivables:receipt_new"), {
        "bank_account": book["account"].pk, "value_date": "2026-04-20", "amount": "5", "bank_reference": "CHQ-100"})
    assert (f"Bank reference CHQ-100 is already recorded on this account as receipt {receipt.number} (id {receipt.pk})."
            in again.content.decode())
    assert Receipt.objects.count() == 1
    bad = client.post(reverse("receivables:receipt_new"), {
        "bank_account": book["account"].pk, "value_date": "2026-04-20", "amount": "1.234"})
    assert "more than 2 decimal places" in bad.content.decode()
    assert Receipt.objects.count() == 1


def test_manual_receipt_is_refused_without_the_permission(client, book):
    login(client, "Finance Manager")
    assert client.get(reverse("receivables:receipt_new")).status_code == 403


def test_bank_accounts_list_and_create_for_a_controller(client, book):
    login(client, "Controller")
    page = client.get(reverse("receivables:bank_accounts")).content.decode()
    assert "DE89370400440532013000" in page and 'data-testid="bank-account-form"' in page
    response = client.post(reverse("receivables:bank_accounts"), {
        "legal_entity": book["entity"].pk, "name": "USD collections", "account_number": "US-0001 2345",
        "currency": "usd"}, follow=True)
    assert "Bank account USD collections (US00012345) added." in response.content.decode()
    assert BankAccount.objects.get(account_number="US00012345").currency == "USD"
    duplicate = client.post(reverse("receivables:bank_accounts"), {
        "legal_entity": book["entity"].pk, "name": "x", "account_number": "us00012345", "currency": "USD"})
    assert "Bank account US00012345 already exists." in duplicate.content.decode()


def test_bank_account_create_is_refused_for_cash_application(client, book):
    login(client, CASH_APP)
    page = client.get(reverse("receivables:bank_accounts")).content.decode()
    assert 'data-testid="bank-account-form"' not in page
    response = client.post(reverse("receivables:bank_accounts"), {
        "legal_entity": book["entity"].pk, "name": "x", "account_number": "X1", "currency": "EUR"})
    assert response.status_code == 403
    assert BankAccount.objects.count() == 1


# --- panels ------------------------------------------------------------------------------------

def aged(book: dict) -> None:
    """Receipts 1, 20, 51 and 96 days old on 2026-04-21, one partly applied."""
    record(book, "100.00", value_date=dt.date(2026, 4, 20))
    record(book, "50.00", value_date=dt.date(2026, 4, 14), customer=False)
    partly = record(book, "1200.00", value_date=dt.date(2026, 4, 1))
    receipt_apply(receipt_id=partly.pk, allocations=[(book["first"].pk, D("1190.00"))], by=None)
    record(book, "300.00", value_date=dt.date(2026, 3, 1))
    record(book, "400.00", value_date=dt.date(2026, 1, 15))
    paid = record(book, "595.00", value_date=dt.date(2026, 1, 15))
    receipt_apply(receipt_id=paid.pk, allocations=[(book["second"].pk, D("595.00"))], by=None)


def test_unapplied_cash_by_age_totals(book):
    aged(book)
    [eur] = unapplied_cash_by_age(user=user_with_role(CASH_APP))
    assert eur["currency"] == "EUR" and (eur["count"], eur["total"]) == (5, D("860.0000"))
    assert [(b["key"], b["count"], b["total"]) for b in eur["buckets"]] == [
        ("0-7", 2, D("150.0000")), ("8-30", 1, D("10.0000")), ("31-60", 1, D("300.0000")), ("61+", 1, D("400.0000"))]


def test_dashboard_panel_shows_unapplied_cash_by_age(client, book):
    aged(book)
    login(client, CASH_APP)
    body = client.get(reverse("home")).content.decode()
    assert 'data-panel="receivables-unapplied-by-age"' in body
    assert 'data-bucket="0-7">150.00<div class="text-body-secondary">2 receipts' in body
    assert 'data-bucket="61+">400.00<div class="text-body-secondary">1 receipt<' in body
    assert 'data-bucket="total">860.00' in body
    login(client, "Sales Rep")
    assert 'data-panel="receivables-unapplied-by-age"' not in client.get(reverse("home")).content.decode()


def test_customer_page_panel_shows_unapplied_cash_and_payments(client, book):
    waiting = record(book, "100.00")
    paid = record(book, "1190.00")
    receipt_apply(receipt_id=paid.pk, allocations=[(book["first"].pk, D("1190.00"))], by=None)
    login(client, CASH_APP)
    body = client.get(reverse("customers:detail", args=[book["customer"].pk])).content.decode()
    assert 'data-panel="receivables-cash"' in body
    panel = body.split('data-panel="receivables-cash"')[1]
    assert waiting.number in panel and "100.00 EUR" in panel
    assert paid.number in panel and book["first"].number in panel
    assert "495.00 EUR" in panel  # the balance: the second invoice (595.00) less the 100.00 waiting
    statement = reverse("receivables:customer_statement", args=[book["customer"].pk])
    assert f'{statement}?legal_entity={book["entity"].pk}&amp;currency=EUR' in panel
    response = client.get(statement)  # the customer's only entity and currency
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content if response.streaming else [response.content]).startswith(b"%PDF")


def test_a_bank_csv_with_only_date_amount_and_details_is_previewed_then_imported(client, book):
    """Issue 13: every column but the date and the amount is optional; the page shows what it read
    before importing, and Import takes the previewed file without a second upload."""
    login(client, CASH_APP)
    data = b"Date,Amount,Details\n2026-04-20,1190.00,DE01-INV-2026-000001 KUNDE EINS\n2026-04-20,-5.00,Fee\n"
    response = upload(client, data, account=book["account"], action="preview", currency="-", remittance="Details")
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="preview"' in body
    assert "1 money-in line (receipts), 1 money-out" in body and "DE01-INV-2026-000001 KUNDE EINS" in body
    assert "Columns not in the file, left out: Payer, Payer Account, Transaction ID" in body
    assert not StatementImport.objects.exists() and not Receipt.objects.exists()  # nothing written
    token = response.context["preview"]["token"]
    response = client.post(reverse("receivables:imports"), {
        "token": token, "preset": "signed_iso", "bank_account": book["account"].pk, "currency": "-",
        "remittance": "Details", "action": "import"}, follow=True)
    assert "1 receipt recorded, 1 applied automatically" in response.content.decode()
    assert Invoice.objects.get(pk=book["first"].pk).status == "paid"


def test_an_empty_override_keeps_the_layout_and_a_dash_clears_it(client, book):
    login(client, CASH_APP)
    data = b"Date,Amount,Payer Account\n2026-04-20,10.00,DE02120300000000202051\n"
    response = upload(client, data, account=book["account"], action="preview", payer_account="-", currency="-")
    preview = response.context["preview"]
    assert preview["mapping"].payer_account is None
    assert preview["statements"][0]["rows"][0].payer_account == ""


def test_a_large_file_is_imported_in_the_background_with_its_progress(client, book, django_capture_on_commit_callbacks,
                                                                       monkeypatch):
    """Issue 13: a long file does not hold the request; a Celery job reads, records and matches it
    (eager here), and the import page shows its progress until it is done."""
    from receivables.views import imports

    monkeypatch.setattr(imports, "BACKGROUND_LINES", 2)
    login(client, CASH_APP)
    data = csv("2026-04-20,1190.00,EUR,KUNDE EINS GMBH,,DE01-INV-2026-000001,,T-1",
               "2026-04-20,77.00,EUR,Somebody Unknown,,,,T-3", "2026-04-20,-12.50,EUR,,,,Bank fee,T-4")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(client, data, account=book["account"])
    run = StatementImport.objects.get()
    assert run.status == "queued" and not Receipt.objects.exists() and len(queued) == 1
    body = response.content.decode()
    assert 'data-testid="import-progress"' in body and "Queued" in body
    queued[0]()  # the worker picks the job up
    run.refresh_from_db()
    assert (run.status, run.receipts_created, run.receipts_matched, run.auto_applied) == ("done", 2, 2, 1)
    assert run.pending_data is None
    assert Invoice.objects.get(pk=book["first"].pk).status == "paid"
    progress = client.get(reverse("receivables:import_progress", args=[run.pk]))
    assert progress["HX-Refresh"] == "true"


def test_a_background_import_that_is_refused_says_why_and_writes_nothing(client, book, django_capture_on_commit_callbacks,
                                                                         monkeypatch):
    from receivables.views import imports

    monkeypatch.setattr(imports, "BACKGROUND_LINES", 1)
    login(client, CASH_APP)
    data = csv("2026-04-20,12.505,EUR,A,,,,T-1", "2026-04-20,1.00,EUR,B,,,,T-2")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, data, account=book["account"])
    run = StatementImport.objects.get()
    assert run.status == "failed" and "more decimals than EUR allows" in run.error
    assert not Receipt.objects.exists()
    page = client.get(reverse("receivables:import_detail", args=[run.pk])).content.decode()
    assert 'data-testid="import-error"' in page
    with django_capture_on_commit_callbacks(execute=True):  # the same file again, corrected or not, is not "seen before"
        upload(client, data, account=book["account"])
    assert StatementImport.objects.count() == 2
