"""Cash application pages: the workbench and Accept, a receipt's page and its actions (split,
identify, on account, refund, reverse), who is refused, query counts that do not grow."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Invoice
from ledger.selectors import ar_reconciliation
from receivables.forms import allocations_key
from receivables.models import Receipt, ReceiptApplication
from receivables.services import receipt_apply
from tests.factories.customers import CustomerFactory
from tests.factories.queries import queries_for
from tests.factories.receivables import issue_for
from tests.factories.receivables_views import CASH_APP, login, make_book, record

pytestmark = pytest.mark.django_db
D = Decimal
@pytest.fixture
def book(today):
    return make_book(today)


def suggest(receipt: Receipt, *allocations: tuple[Invoice, str], score: float = 0.74, customer=None) -> list[dict]:
    """Store a suggestion as the matcher does (receipts_auto_match writes the same JSON)."""
    suggestions = [{
        "customer_id": (customer or allocations[0][0].customer).pk, "score": score,
        "allocations": [{"invoice_id": i.pk, "invoice_number": i.number, "amount": amount} for i, amount in allocations],
        "on_account": "0", "short": "0", "rules": ["amount", "payer-name"],
        "reasons": ["Amount equals the open balance of one invoice", "Payer name resembles Kunde Eins GmbH"],
    }]
    Receipt.objects.filter(pk=receipt.pk).update(suggestions=suggestions, match_status=Receipt.Match.SUGGESTED,
                                                 match_score=score)
    return suggestions


def accept_data(suggestions: list[dict], index: int = 0, **extra) -> dict:
    return {"index": index, "allocations": allocations_key(suggestions[index]["allocations"]), **extra}


def reconciled(entity) -> bool:
    rows = ar_reconciliation(legal_entity_id=entity.pk)
    return bool(rows) and all(row["difference"] == 0 for row in rows)


# --- workbench ---------------------------------------------------------------------------------

def test_workbench_lists_waiting_receipts_oldest_first_with_their_best_suggestion(client, book):
    newer = record(book, "1190.00", customer=False, payer="Kunde Eins", remittance="Rechnung 2026 1")
    older = record(book, "77.00", customer=False, value_date=dt.date(2026, 4, 1), payer="Somebody Unknown")
    done = record(book, "595.00")
    receipt_apply(receipt_id=done.pk, allocations=[(book["second"].pk, D("595.00"))], by=None)
    suggest(newer, (book["first"], "1190.00"))
    login(client, CASH_APP)
    response = client.get(reverse("receivables:workbench"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(older.number) < body.index(newer.number)
    assert done.number not in body
    assert "Rechnung 2026 1" in body and "1,190.00 EUR" in body and "74%" in body
    assert "Amount equals the open balance of one invoice" in body
    assert body.count('data-testid="accept"') == 1


def test_workbench_is_on_the_list_component_and_exports_every_filtered_receipt(client, book):
    """The workbench's footer counts the receipts waiting; its export holds each of them, in the
    order asked, with the best suggestion and without the tick box and action columns."""
    import io

    from openpyxl import load_workbook

    newer = record(book, "1190.00", customer=False, payer="Kunde Eins", remittance="Rechnung 2026 1")
    older = record(book, "77.00", customer=False, value_date=dt.date(2026, 4, 1), payer="Somebody Unknown")
    suggest(newer, (book["first"], "1190.00"))
    login(client, CASH_APP)
    page = client.get(reverse("receivables:workbench")).content.decode()
    assert 'data-testid="list-footer" data-list="receivables:workbench"' in page and "· 2 rows" in page

    response = client.get(reverse("receivables:workbench"), {"sort": "-receipt", "export": "xlsx"})

    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("Receipt", "Payer · remittance", "Customer", "Left to apply", "Best suggestion")
    assert [row[0].split()[0] for row in rows[1:]] == [newer.number, older.number]  # newest first, as asked
    assert "74%" in rows[1][4] and book["first"].number in rows[1][4] and "Why" not in rows[1][4]
    assert rows[2][4] == "none"


def test_workbench_filters(client, book):
    small = record(book, "77.00", customer=False, payer="Somebody Unknown", remittance="donation")
    big = record(book, "1190.00", payer="Kunde Eins", remittance="DE01-INV-2026-000001")
    login(client, CASH_APP)

    def shown(**params) -> set[str]:
        body = client.get(reverse("receivables:workbench"), params).content.decode()
        return {r.number for r in (small, big) if r.number in body}

    assert shown() == {small.number, big.number}
    assert shown(identified="no") == {small.number}
    assert shown(identified="yes") == {big.number}
    assert shown(amount_min="100") == {big.number}
    assert shown(amount_max="100.00") == {small.number}
    assert shown(q="donation") == {small.number}
    assert shown(q="INV-2026-000001") == {big.number}
    assert shown(q=big.number) == {big.number}
    assert shown(bank_account=book["account"].pk, status="unapplied") == {small.number, big.number}
    assert shown(value_from="2026-04-21") == set()


def test_accept_applies_the_stored_suggestion(client, book):
    receipt = record(book, "1190.00", customer=False, payer="Kunde Eins")
    stored = suggest(receipt, (book["first"], "1190.00"))
    login(client, CASH_APP)
    response = client.post(reverse("receivables:receipt_accept", args=[receipt.pk]),
                           accept_data(stored, next=reverse("receivables:workbench")), follow=True)
    assert response.redirect_chain[-1][0] == reverse("receivables:workbench")
    assert "1,190.00 EUR applied as suggested" in response.content.decode()
    receipt.refresh_from_db()
    invoice = Invoice.objects.get(pk=book["first"].pk)
    assert (receipt.status, receipt.amount_applied, receipt.customer_id) == ("applied", D("1190.00"), book["customer"].pk)
    assert (invoice.status, invoice.amount_paid) == ("paid", D("1190.00"))
    application = ReceiptApplication.objects.get(receipt=receipt)
    assert application.rule == "amount+payer-name" and application.score == pytest.approx(0.74)
    assert application.reason.startswith("Suggestion accepted: Amount equals")
    assert receipt.match_status == "manual"
    assert reconciled(book["entity"])


def test_accepting_an_overpayment_leaves_the_rest_on_account(client, book):
    receipt = record(book, "1290.00")
    stored = suggest(receipt, (book["first"], "1190.00"))
    stored[0]["on_account"] = "100.00"
    Receipt.objects.filter(pk=receipt.pk).update(suggestions=stored)
    login(client, CASH_APP)
    client.post(reverse("receivables:receipt_accept", args=[receipt.pk]), accept_data(stored))
    receipt.refresh_from_db()
    assert (receipt.status, receipt.amount_applied, receipt.unapplied_amount) == ("on_account", D("1190.00"), D("100.00"))
    assert Invoice.objects.get(pk=book["first"].pk).status == "paid"


def test_accept_refuses_a_suggestion_that_no_longer_fits_and_writes_nothing(client, book):
    receipt = record(book, "1190.00")
    stored = suggest(receipt, (book["first"], "1190.00"))
    other = record(book, "1190.00")
    receipt_apply(receipt_id=other.pk, allocations=[(book["first"].pk, D("1190.00"))], by=None)
    login(client, CASH_APP)
    page = client.get(reverse("receivables:receipt_detail", args=[receipt.pk])).content.decode()
    assert "no longer fits" in page
    response = client.post(reverse("receivables:receipt_accept", args=[receipt.pk]), accept_data(stored), follow=True)
    body = response.content.decode()
    assert "Invoice DE01-INV-2026-000001 has 0.00 EUR left to pay; 1,190.00 EUR would pay it past its balance." in body
    assert not ReceiptApplication.objects.filter(receipt=receipt).exists()
    receipt.refresh_from_db()
    assert (receipt.status, receipt.amount_applied) == ("unapplied", 0)


def test_accept_refuses_a_suggestion_changed_since_the_page_was_shown(client, book):
    receipt = record(book, "1190.00")
    suggest(receipt, (book["first"], "1190.00"))
    login(client, CASH_APP)
    response = client.post(reverse("receivables:receipt_accept", args=[receipt.pk]),
                           {"index": 0, "allocations": f"{book['second'].pk}:595"}, follow=True)
    assert "changed since the page was shown" in response.content.decode()
    assert not ReceiptApplication.objects.exists()


def test_accept_needs_the_apply_permission(client, book):
    receipt = record(book, "1190.00")
    stored = suggest(receipt, (book["first"], "1190.00"))
    login(client, "Finance Manager")
    page = client.get(reverse("receivables:receipt_detail", args=[receipt.pk])).content.decode()
    assert 'data-testid="accept"' not in page
    response = client.post(reverse("receivables:receipt_accept", args=[receipt.pk]), accept_data(stored))
    assert response.status_code == 403
    assert not ReceiptApplication.objects.exists()


def test_suggest_again_shows_fresh_suggestions_with_accept(client, book):
    receipt = record(book, "1190.00", remittance="Invoice DE01-INV-2026-000001")
    login(client, CASH_APP)
    response = client.get(reverse("receivables:receipt_suggest", args=[receipt.pk]))
    body = response.content.decode()
    assert response.status_code == 200 and "Suggested again just now" in body
    assert "DE01-INV-2026-000001" in body and 'name="fresh"' in body
    key = body.split('name="allocations" value="')[1].split('"')[0]
    response = client.post(reverse("receivables:receipt_accept", args=[receipt.pk]),
                           {"index": 0, "fresh": "on", "allocations": key}, follow=True)
    assert "applied as suggested" in response.content.decode()
    assert Invoice.objects.get(pk=book["first"].pk).status == "paid"
    assert Receipt.objects.get(pk=receipt.pk).suggestions == []  # nothing stored by suggesting again


# --- the receipt page --------------------------------------------------------------------------

def split_data(*rows: tuple[str, str]) -> dict:
    data = {"alloc-TOTAL_FORMS": "5", "alloc-INITIAL_FORMS": "0", "alloc-MIN_NUM_FORMS": "0",
            "alloc-MAX_NUM_FORMS": "30"}
    for i in range(5):
        number, amount = rows[i] if i < len(rows) else ("", "")
        data[f"alloc-{i}-invoice"], data[f"alloc-{i}-amount"] = number, amount
    return data


def test_receipt_page_shows_facts_postings_suggestions_and_history(client, book):
    receipt = record(book, "1190.00", remittance="RE 2026-1")
    suggest(receipt, (book["first"], "1190.00"))
    login(client, CASH_APP)
    response = client.get(reverse("receivables:receipt_detail", args=[receipt.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert receipt.number in body and "RE 2026-1" in body and "Kunde Eins GmbH" in body
    assert reverse("ledger:journal_detail", args=[receipt.journal_entry_id]) in body
    assert reverse("ledger:open_item_detail", args=[receipt.open_item_id]) in body
    assert "Payer name resembles Kunde Eins GmbH" in body and "74%" in body
    assert 'data-testid="apply-split"' in body and 'data-testid="on-account"' in body
    assert 'data-testid="reverse"' in body and 'data-testid="refund"' not in body
    assert "History" in body


def test_split_over_two_invoices(client, book):
    receipt = record(book, "2000.00")
    login(client, CASH_APP)
    response = client.post(reverse("receivables:receipt_split", args=[receipt.pk]),
                           split_data((book["first"].number, "1,190.00"), (book["second"].number.lower(), "300")),
                           follow=True)
    assert "1,490.00 EUR applied to 2 invoices" in response.content.decode()
    receipt.refresh_from_db()
    assert (receipt.status, receipt.amount_applied, receipt.unapplied_amount) == (
        "partially_applied", D("1490.00"), D("510.00"))
    first, second = Invoice.objects.get(pk=book["first"].pk), Invoice.objects.get(pk=book["second"].pk)
    assert (first.status, first.amount_paid) == ("paid", D("1190.00"))
    assert (second.status, second.amount_paid) == ("partially_paid", D("300.00"))
    assert ReceiptApplication.objects.filter(receipt=receipt).count() == 2
    assert reconciled(book["entity"])


def test_over_application_is_refused_with_the_message_and_nothing_written(client, book):
    receipt = record(book, "1000.00")
    login(client, CASH_APP)
    response = client.post(reverse("receivables:receipt_split", args=[receipt.pk]),
                           split_data((book["first"].number, "1190.00")))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"{receipt.number} has 1,000.00 EUR left to apply; 1,190.00 EUR is too much." in body
    assert f'value="{book["first"].number}"' in body  # the typed rows are kept
    receipt.refresh_from_db()
    assert (receipt.status, receipt.amount_applied) == ("unapplied", 0)
    assert Invoice.objects.get(pk=book["first"].pk).amount_paid == 0
    assert not ReceiptApplication.objects.exists()


def test_split_names_an_unknown_invoice_and_a_bad_amount(client, book):
    receipt = record(book, "1000.00")
    login(client, CASH_APP)
    body = client.post(reverse("receivables:receipt_split", args=[receipt.pk]),
                       split_data(("NOPE-1", "10"), (book["first"].number, "ten"))).content.decode()
    assert "No invoice NOPE-1 in DE01." in body and "is not an amount" in body
    assert not ReceiptApplication.objects.exists()


def test_invoice_search_finds_open_invoices_by_customer_number_and_amount(client, book):
    receipt = record(book, "595.00", customer=False)
    other = CustomerFactory(country="DE", legal_name="Zweite Handels AG")
    foreign = issue_for(book["entity"], other, ["200.00"])
    login(client, CASH_APP)
    url = reverse("receivables:receipt_invoice_search", args=[receipt.pk])
    body = client.get(url, {"amount": "595.00"}).content.decode()
    assert book["second"].number in body and book["first"].number not in body
    body = client.get(url, {"customer": other.pk}).content.decode()
    assert foreign.number in body and book["first"].number not in body
    body = client.get(url, {"number": "000001"}).content.decode()
    assert book["first"].number in body and book["second"].number not in body


def test_identify_the_payer(client, book):
    receipt = record(book, "77.00", customer=False, payer="K1 Holding")
    login(client, CASH_APP)
    options = client.get(reverse("receivables:customer_options"), {"customer_q": "Kunde"}).content.decode()
    assert f'value="{book["customer"].pk}"' in options
    response = client.post(reverse("receivables:receipt_identify", args=[receipt.pk]),
                           {"customer": book["customer"].pk}, follow=True)
    assert "identified as Kunde Eins GmbH" in response.content.decode()
    receipt.refresh_from_db()
    assert receipt.customer_id == book["customer"].pk and receipt.identify_entry_id is not None
    assert reconciled(book["entity"])


def test_put_on_account(client, book):
    receipt = record(book, "1500.00")
    receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1190.00"))], by=None)
    login(client, CASH_APP)
    response = client.post(reverse("receivables:receipt_on_account", args=[receipt.pk]), {"note": "credit"},
                           follow=True)
    assert "310.00 EUR left on Kunde Eins GmbH" in response.content.decode()
    assert Receipt.objects.get(pk=receipt.pk).status == "on_account"


def test_refund_is_refused_for_a_cash_application_specialist(client, book):
    receipt = record(book, "100.00")
    login(client, CASH_APP)
    page = client.get(reverse("receivables:receipt_detail", args=[receipt.pk])).content.decode()
    assert 'data-testid="refund"' not in page
    response = client.post(reverse("receivables:receipt_refund", args=[receipt.pk]),
                           {"amount": "100.00", "reason": "customer asked"})
    assert response.status_code == 403
    receipt.refresh_from_db()
    assert (receipt.status, receipt.amount_refunded) == ("unapplied", 0)


def test_refund_by_a_finance_manager(client, book):
    receipt = record(book, "100.00")
    login(client, "Finance Manager")
    page = client.get(reverse("receivables:receipt_detail", args=[receipt.pk])).content.decode()
    assert 'data-testid="refund"' in page and 'data-testid="apply-split"' not in page
    response = client.post(reverse("receivables:receipt_refund", args=[receipt.pk]),
                           {"amount": "40.00", "reason": "paid twice"}, follow=True)
    assert "refund posted" in response.content.decode()
    receipt.refresh_from_db()
    assert (receipt.status, receipt.amount_refunded, receipt.unapplied_amount) == ("unapplied", D("40.00"), D("60.00"))
    response = client.post(reverse("receivables:receipt_refund", args=[receipt.pk]),
                           {"amount": "70.00", "reason": "again"}, follow=True)
    assert "Refund between 0 and the 60.00 EUR left unapplied." in response.content.decode()
    assert Receipt.objects.get(pk=receipt.pk).amount_refunded == D("40.00")
    response = client.post(reverse("receivables:receipt_refund", args=[receipt.pk]), {"amount": "10"}, follow=True)
    assert "Reason: This field is required." in response.content.decode()


def test_reverse_a_returned_receipt_reopens_its_invoices(client, book):
    receipt = record(book, "1190.00")
    receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1190.00"))], by=None)
    login(client, CASH_APP)
    response = client.post(reverse("receivables:receipt_reverse", args=[receipt.pk]), {"reason": ""}, follow=True)
    assert "Reason: This field is required." in response.content.decode()
    assert Receipt.objects.get(pk=receipt.pk).status == "applied"
    response = client.post(reverse("receivables:receipt_reverse", args=[receipt.pk]),
                           {"reason": "Returned: insufficient funds (NSF)"}, follow=True)
    assert "reversed (Returned: insufficient funds (NSF))" in response.content.decode()
    receipt.refresh_from_db()
    invoice = Invoice.objects.get(pk=book["first"].pk)
    assert (receipt.status, receipt.amount_applied) == ("reversed", 0)
    assert (invoice.status, invoice.amount_paid) == ("issued", 0)
    assert reconciled(book["entity"])
    page = client.get(reverse("receivables:receipt_detail", args=[receipt.pk])).content.decode()
    assert 'data-testid="reverse"' not in page and 'data-testid="apply-split"' not in page


def test_reverse_one_application(client, book):
    receipt = record(book, "1785.00")
    receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1190.00")),
                                                      (book["second"].pk, D("595.00"))], by=None)
    application = ReceiptApplication.objects.get(invoice=book["second"])
    login(client, CASH_APP)
    response = client.post(reverse("receivables:application_reverse", args=[application.pk]),
                           {"reason": "wrong invoice"}, follow=True)
    assert f"Application to {book['second'].number} reversed" in response.content.decode()
    application.refresh_from_db()
    assert application.reversed_at is not None and application.reversal_reason == "wrong invoice"
    receipt.refresh_from_db()
    assert (receipt.status, receipt.amount_applied) == ("partially_applied", D("1190.00"))
    assert Invoice.objects.get(pk=book["second"].pk).status == "issued"


# --- who may see what --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["Sales Rep", "Billing Specialist"])
def test_workbench_refuses_sales_reps_and_billing_specialists(client, book, role):
    login(client, role)
    assert client.get(reverse("receivables:workbench")).status_code == 403
    assert client.get(reverse("receivables:imports")).status_code == 403


def test_sales_rep_is_refused_another_reps_receipt_and_its_actions(client, book):
    receipt = record(book, "100.00")  # Kunde Eins has no sales owner: not this rep's customer
    login(client, "Sales Rep")
    # 403 while the role lacks receivables.view_receipt; 404 (not their customer) once it has it
    assert client.get(reverse("receivables:receipt_detail", args=[receipt.pk])).status_code in (403, 404)
    assert client.post(reverse("receivables:receipt_split", args=[receipt.pk]),
                       split_data((book["first"].number, "100"))).status_code in (403, 404)
    assert not ReceiptApplication.objects.exists()


def test_billing_specialist_reads_a_receipt_without_buttons(client, book):
    receipt = record(book, "100.00")
    login(client, "Billing Specialist")
    body = client.get(reverse("receivables:receipt_detail", args=[receipt.pk])).content.decode()
    assert receipt.number in body
    assert 'data-testid="actions"' not in body and 'data-testid="apply-split"' not in body
    assert client.post(reverse("receivables:receipt_on_account", args=[receipt.pk])).status_code == 403
    assert Receipt.objects.get(pk=receipt.pk).status == "unapplied"
    assert "Suggestions" not in body  # they may name other customers' invoices
    assert client.get(reverse("receivables:receipt_invoice_search", args=[receipt.pk])).status_code == 403
    assert client.get(reverse("receivables:receipt_suggest", args=[receipt.pk])).status_code == 403


def test_nav_shows_cash_to_the_cash_application_roles_only(client, book):
    login(client, CASH_APP)
    assert f'href="{reverse("receivables:workbench")}">Cash<' in client.get(reverse("home")).content.decode()
    login(client, "Billing Specialist")
    assert f'href="{reverse("receivables:workbench")}"' not in client.get(reverse("home")).content.decode()


# --- query counts ------------------------------------------------------------------------------

def test_workbench_query_count_does_not_grow(client, book):
    login(client, CASH_APP)
    for _ in range(2):
        suggest(record(book, "1190.00", customer=False), (book["first"], "1190.00"))
    few = queries_for(client, reverse("receivables:workbench"))
    other = CustomerFactory(country="DE", legal_name="Zweite Handels AG")
    for n in range(8):
        invoice = issue_for(book["entity"], other, [f"{100 + n}.00"])
        suggest(record(book, "119.00", customer=n % 2 == 0), (invoice, "119.00"), customer=other)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("receivables:workbench"))
    assert response.content.decode().count('data-testid="accept"') == 10
    assert len(many) == few


def test_receipt_page_query_count_does_not_grow(client, book):
    login(client, CASH_APP)
    receipt = record(book, "5000.00")
    receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("10.00"))], by=None)
    suggest(receipt, (book["second"], "595.00"))
    url = reverse("receivables:receipt_detail", args=[receipt.pk])
    few = queries_for(client, url)
    invoices = [issue_for(book["entity"], book["customer"], [f"{10 + n}.00"]) for n in range(5)]
    receipt_apply(receipt_id=receipt.pk, allocations=[(i.pk, D("1.00")) for i in invoices], by=None)
    suggest(receipt, *[(i, "2.00") for i in invoices])
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count('data-testid="reverse-application"') == 6
    assert len(many) == few


def test_workbench_shows_the_unapplied_total_reasons_folded_and_accept_disabled_when_it_no_longer_fits(client, book):
    fits = record(book, "595.00", customer=False, payer="Kunde Eins")
    suggest(fits, (book["second"], "595.00"))
    stale = record(book, "1190.00", customer=False, payer="Kunde Eins")
    suggest(stale, (book["first"], "1190.00"))
    receipt_apply(receipt_id=record(book, "1190.00").pk, allocations=[(book["first"].pk, D("1190.00"))], by=None)
    login(client, CASH_APP)
    body = client.get(reverse("receivables:workbench")).content.decode()
    assert "Left to apply:" in body and "1,785.00 EUR in 2 receipts" in body
    assert "<details class=\"text-body-secondary\"><summary>Why</summary>" in body
    row = body[body.index(f'data-receipt="{stale.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "disabled" in row and 'data-testid="pick"' not in row


def test_accept_selected_applies_each_ticked_suggestion_and_reports_refusals(client, book):
    first = record(book, "1190.00", customer=False, payer="Kunde Eins")
    s1 = suggest(first, (book["first"], "1190.00"))
    second = record(book, "595.00", customer=False, payer="Kunde Eins")
    s2 = suggest(second, (book["second"], "595.00"))
    login(client, CASH_APP)
    response = client.post(reverse("receivables:receipts_accept_selected"), {"pick": [
        f"{first.pk}:0:{allocations_key(s1[0]['allocations'])}", f"{second.pk}:0:{second.pk}:1"]}, follow=True)
    body = response.content.decode()
    assert "1 suggestion(s) accepted" in body and "changed since the page was shown" in body
    assert Invoice.objects.get(pk=book["first"].pk).status == "paid"
    assert not ReceiptApplication.objects.filter(receipt=second).exists()
    assert s2  # the second stays waiting with its suggestion


def test_accept_selected_is_refused_without_the_permission(client, book):
    receipt = record(book, "1190.00", customer=False)
    stored = suggest(receipt, (book["first"], "1190.00"))
    login(client, "Auditor")
    response = client.post(reverse("receivables:receipts_accept_selected"),
                           {"pick": [f"{receipt.pk}:0:{allocations_key(stored[0]['allocations'])}"]})
    assert response.status_code == 403 and not ReceiptApplication.objects.exists()


def test_another_customers_invoice_needs_a_second_click(client, book):
    other = CustomerFactory(country="DE", legal_name="Zweite AG")
    theirs = issue_for(book["entity"], other, ["100.00"])
    receipt = record(book, "119.00")  # Kunde Eins' receipt
    stored = suggest(receipt, (theirs, "119.00"), customer=other)
    stored[0]["other_customer"] = True
    Receipt.objects.filter(pk=receipt.pk).update(suggestions=stored)
    login(client, CASH_APP)
    page = client.get(reverse("receivables:receipt_detail", args=[receipt.pk])).content.decode()
    assert 'data-testid="other-customer"' in page and 'data-testid="confirm-other"' in page
    response = client.post(reverse("receivables:receipt_accept", args=[receipt.pk]), accept_data(stored), follow=True)
    assert "confirm it explicitly" in response.content.decode()
    assert not ReceiptApplication.objects.exists()


def _short(book):
    receipt = record(book, "1175.00", customer=False, payer="Kunde Eins")
    stored = suggest(receipt, (book["first"], "1175.00"))
    stored[0]["short"] = "15.00"
    Receipt.objects.filter(pk=receipt.pk).update(suggestions=stored)
    return receipt, stored


def test_a_bank_fee_is_written_off_within_tolerance_and_limit_in_the_accept_step(client, book):
    from django.contrib.auth.models import Group

    from ledger.models import JournalEntry
    from otc.models import ApprovalLimit

    ApprovalLimit.objects.create(kind="write_off", role=Group.objects.get(name=CASH_APP), currency="EUR",
                                 max_amount=D("100.00"))
    receipt, stored = _short(book)
    login(client, CASH_APP)
    page = client.get(reverse("receivables:receipt_detail", args=[receipt.pk])).content.decode()
    assert 'data-testid="write-off"' in page
    client.post(reverse("receivables:receipt_accept", args=[receipt.pk]), accept_data(stored, write_off="on"))
    invoice = Invoice.objects.get(pk=book["first"].pk)
    assert (invoice.status, invoice.balance_due) == ("paid", D("0"))
    entry = JournalEntry.objects.filter(memo__startswith="Payment difference on").get()
    lines = {(line.account.role, line.amount) for line in entry.lines.all()}
    assert lines == {("rounding", D("15.0000")), ("ar", D("-15.0000"))}
    assert reconciled(book["entity"])


def test_a_write_off_beyond_the_limit_refuses_the_whole_accept(client, book):
    receipt, stored = _short(book)  # no write-off limit for the specialist: zero
    login(client, CASH_APP)
    response = client.post(reverse("receivables:receipt_accept", args=[receipt.pk]),
                           accept_data(stored, write_off="on"), follow=True)
    assert "exceeds your write-off limit" in response.content.decode()
    assert not ReceiptApplication.objects.filter(receipt=receipt).exists()
    assert Invoice.objects.get(pk=book["first"].pk).status == "issued"
