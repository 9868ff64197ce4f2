"""Credit notes: request shapes and rounding, what remains uncredited, approval (segregation of
duties, limits), rejection, issuing (numbers, postings, invoice balance, customer credit)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from billing.models import CreditNote, CreditNoteLine, Invoice, TaxCode
from billing.services import credit_note_approve, credit_note_issue, credit_note_reject, credit_note_request
from ledger.models import NumberSeries, OpenItem
from ledger.selectors import ar_reconciliation
from otc.errors import (
    InvalidTransition,
    LimitExceeded,
    PermissionDenied,
    SegregationOfDuties,
    ValidationFailed,
)
from otc.models import ApprovalLimit, OutboxEvent, StatusChange
from tests.factories.billing import ISSUE, de_entity, issued
from tests.factories.ledger import post_receipt
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
CN_DATE = dt.date(2026, 4, 15)
LINES = [
    {"description": "Subscription", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "digital"},
    {"description": "Books", "quantity": D("2"), "unit_price": D("100.00"), "tax_category": "reduced",
     "revenue_account_code": "4200"},
    {"description": "Consulting", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "services"},
]  # net 400.00, tax 19.00 + 14.00 + 19.00 = 52.00, gross 452.00


@pytest.fixture
def setup():
    entity = de_entity()
    invoice = issued(entity, lines=LINES)
    assert invoice.gross_total == D("452.00")
    for role, limit in (("Billing Specialist", "100.00"), ("Finance Manager", "10000.00")):
        ApprovalLimit.objects.create(kind="credit_note", role=Group.objects.get(name=role), currency="EUR",
                                     max_amount=D(limit))
    lines = {line.description: line for line in invoice.lines.all()}
    return entity, invoice, lines


def ok() -> bool:
    return all(row["difference"] == 0 for row in ar_reconciliation())


def request(invoice, by=None, **kwargs) -> CreditNote:
    return credit_note_request(invoice_id=invoice.pk, by=by or user_with_role("Collector"), reason="billing_error",
                               explanation="Billed twice", **kwargs)


def approved(note) -> CreditNote:
    return credit_note_approve(credit_note_id=note.pk, by=user_with_role("Finance Manager"))


def issue(note, on=CN_DATE) -> CreditNote:
    return credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"), issue_date=on)


def shape(note) -> list[tuple]:
    return [(ln.description, ln.quantity, ln.net_amount, ln.tax_rate, ln.tax_amount, ln.tax_code.code)
            for ln in note.lines.select_related("tax_code").order_by("position")]


# --- request -------------------------------------------------------------------------------------

def test_whole_invoice(setup):
    _, invoice, _ = setup
    by = user_with_role("Help Desk Agent")
    note = request(invoice, by=by)
    assert (note.status, note.net_total, note.tax_total, note.gross_total) == ("requested", D("400.00"), D("52.00"),
                                                                              D("452.00"))
    assert (note.customer_id, note.legal_entity_id, note.currency, note.number) == (
        invoice.customer_id, invoice.legal_entity_id, "EUR", "")
    assert [row[2:5] for row in shape(note)] == [(D("100.0000"), D("19.0000"), D("19.0000")),
                                                 (D("200.0000"), D("7.0000"), D("14.0000")),
                                                 (D("100.0000"), D("19.0000"), D("19.0000"))]
    assert StatusChange.objects.filter(object_id=note.pk, from_state="", to_state="requested", by=by).exists()
    assert OutboxEvent.objects.filter(topic="credit_note.requested", subject_id=note.pk).exists()


def test_some_lines_use_the_original_rates(setup):
    _, invoice, lines = setup
    TaxCode.objects.update(rate=D("25"))  # a later rate change never touches a credit on an old invoice
    note = request(invoice, lines=[{"invoice_line_id": lines["Books"].pk, "quantity": D("1")},
                                   {"invoice_line_id": lines["Subscription"].pk, "net_amount": D("33.33")}])
    assert [row[:5] for row in shape(note)] == [
        ("Books", D("1.0000"), D("100.0000"), D("7.0000"), D("7.0000")),
        ("Subscription", D("1.0000"), D("33.3300"), D("19.0000"), D("6.3300")),  # 6.3327
    ]
    assert shape(note)[0][5] == lines["Books"].tax_code.code
    assert (note.net_total, note.tax_total, note.gross_total) == (D("133.33"), D("13.33"), D("146.66"))


def test_amount_spread_pro_rata_rounding_on_the_largest_line(setup):
    _, invoice, _ = setup
    note = request(invoice, amount=D("150.10"))
    # 150.10 x 100/400 = 37.525 -> 37.53; x 200/400 = 75.05; 37.53: sum 150.11, -0.01 on the largest (Books)
    assert [row[2:5] for row in shape(note)] == [(D("37.5300"), D("19.0000"), D("7.1300")),
                                                 (D("75.0400"), D("7.0000"), D("5.2500")),
                                                 (D("37.5300"), D("19.0000"), D("7.1300"))]
    assert (note.net_total, note.tax_total, note.gross_total) == (D("150.10"), D("19.51"), D("169.61"))


def test_cannot_exceed_what_remains_and_writes_nothing(setup):
    _, invoice, lines = setup
    request(invoice, lines=[{"invoice_line_id": lines["Books"].pk, "quantity": D("2")}])
    before = (CreditNote.objects.count(), CreditNoteLine.objects.count(), OutboxEvent.objects.count())
    with pytest.raises(ValidationFailed, match="remains uncredited"):  # per line
        request(invoice, lines=[{"invoice_line_id": lines["Books"].pk, "net_amount": D("0.01")}])
    with pytest.raises(ValidationFailed, match="remains uncredited"):
        request(invoice, lines=[{"invoice_line_id": lines["Subscription"].pk, "net_amount": D("100.01")}])
    with pytest.raises(ValidationFailed, match="remains uncredited"):  # the invoice: 452 - 214 left = 238
        request(invoice, amount=D("200.01"))
    with pytest.raises(ValidationFailed, match="Explain"):
        credit_note_request(invoice_id=invoice.pk, by=user_with_role("Collector"), reason="goodwill", explanation=" ")
    with pytest.raises(PermissionDenied):
        request(invoice, by=user_with_role("Auditor"), amount=D("1.00"))
    assert (CreditNote.objects.count(), CreditNoteLine.objects.count(), OutboxEvent.objects.count()) == before
    rest = request(invoice)  # the whole remainder
    assert rest.gross_total == D("238.00")


def test_rejected_notes_free_the_amount(setup):
    _, invoice, _ = setup
    note = request(invoice)
    credit_note_reject(credit_note_id=note.pk, by=user_with_role("Finance Manager"), note="Not justified")
    assert request(invoice).gross_total == D("452.00")


def test_void_or_draft_invoice_refused(setup):
    entity, invoice, _ = setup
    Invoice.objects.filter(pk=invoice.pk).update(status="void")
    with pytest.raises(InvalidTransition):
        request(invoice)
    assert not CreditNote.objects.exists()


# --- approve / reject ------------------------------------------------------------------------------

def test_requester_never_approves(setup):
    _, invoice, _ = setup
    specialist = user_with_role("Billing Specialist")
    note = request(invoice, by=specialist, amount=D("10.00"))
    with pytest.raises(SegregationOfDuties):
        credit_note_approve(credit_note_id=note.pk, by=specialist)
    note.refresh_from_db()
    assert note.status == "requested" and note.decided_by is None


def test_limit_exceeded_for_a_specialist_but_not_a_finance_manager(setup):
    _, invoice, _ = setup
    note = request(invoice, amount=D("100.00"))  # net 25 + 50 + 25, tax 4.75 + 3.50 + 4.75
    assert note.gross_total == D("113.00")
    with pytest.raises(LimitExceeded) as err:
        credit_note_approve(credit_note_id=note.pk, by=user_with_role("Billing Specialist"))
    assert err.value.message == "113.00 EUR exceeds your approval limit of 100.00 EUR."  # money_text, as everywhere
    with pytest.raises(PermissionDenied):
        credit_note_approve(credit_note_id=note.pk, by=user_with_role("Collector"))
    manager = user_with_role("Finance Manager")
    note = credit_note_approve(credit_note_id=note.pk, by=manager, note="ok")
    assert (note.status, note.decided_by, note.decision_note) == ("approved", manager, "ok")
    assert StatusChange.objects.filter(object_id=note.pk, from_state="requested", to_state="approved").exists()
    small = request(invoice, amount=D("50.00"))
    assert credit_note_approve(credit_note_id=small.pk, by=user_with_role("Billing Specialist")).status == "approved"


def test_reject_needs_a_note(setup):
    _, invoice, _ = setup
    note = request(invoice, amount=D("10.00"))
    with pytest.raises(ValidationFailed):
        credit_note_reject(credit_note_id=note.pk, by=user_with_role("Controller"), note="  ")
    note = credit_note_reject(credit_note_id=note.pk, by=user_with_role("Controller"), note="Duplicate request")
    assert (note.status, note.decision_note) == ("rejected", "Duplicate request")
    with pytest.raises(InvalidTransition):
        approved(note)


# --- issue ---------------------------------------------------------------------------------------

def test_issue_posts_the_reversal_and_reduces_the_invoice(setup):
    entity, invoice, lines = setup
    note = request(invoice, lines=[{"invoice_line_id": lines["Books"].pk, "quantity": D("1")},
                                   {"invoice_line_id": lines["Subscription"].pk, "net_amount": D("33.33")}])
    with pytest.raises(InvalidTransition):
        issue(note)  # not approved yet
    note = issue(approved(note))
    assert (note.status, note.number, note.issue_date) == ("issued", "DE01-CN-2026-000001", CN_DATE)
    entry = note.journal_entry
    assert (entry.kind, entry.document_date) == ("credit_note", CN_DATE)
    assert sorted((ln.account.code, ln.amount) for ln in entry.lines.all()) == [
        ("1100", D("-146.6600")), ("2200", D("13.3300")), ("4000", D("33.3300")), ("4200", D("100.0000"))]
    invoice.refresh_from_db()
    assert (invoice.amount_credited, invoice.status, invoice.balance_due) == (D("146.66"), "issued", D("305.34"))
    assert invoice.open_item.open_amount == D("305.34")
    assert not OpenItem.objects.filter(document_type="credit_note").exists()
    assert OutboxEvent.objects.filter(topic="credit_note.issued", subject_id=note.pk).exists()
    assert ok()


def test_whole_credit_closes_the_invoice(setup):
    _, invoice, _ = setup
    issue(approved(request(invoice)))
    invoice.refresh_from_db()
    assert (invoice.amount_credited, invoice.status, invoice.open_item.open_amount) == (D("452.00"), "paid", D("0"))
    assert ok()


def test_credit_on_a_paid_invoice_leaves_a_customer_credit(setup):
    _, invoice, lines = setup
    post_receipt(invoice.open_item, "400.00", date=dt.date(2026, 4, 10))
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=D("400.00"), status="partially_paid")  # as receivables does
    note = issue(approved(request(invoice, lines=[
        {"invoice_line_id": lines["Books"].pk, "quantity": D("1")},
        {"invoice_line_id": lines["Subscription"].pk, "net_amount": D("33.33")}])))
    assert sorted((ln.account.code, ln.amount) for ln in note.journal_entry.lines.all())[0:2] == [
        ("1100", D("-94.6600")), ("1100", D("-52.0000"))]
    invoice.refresh_from_db()
    assert (invoice.open_item.open_amount, invoice.amount_credited, invoice.status) == (D("0"), D("146.66"), "paid")
    credit = OpenItem.objects.get(document_type="credit_note")
    assert (credit.document_number, credit.original_amount, credit.open_amount, credit.customer_id) == (
        note.number, D("-94.66"), D("-94.66"), invoice.customer_id)
    assert ok()


def test_numbers_are_gapless_and_void_invoices_refused(setup):
    entity, invoice, _ = setup
    first = approved(request(invoice, amount=D("10.00")))
    second = approved(request(invoice, amount=D("20.00")))
    with pytest.raises(PermissionDenied):  # refused before a number is taken
        credit_note_issue(credit_note_id=first.pk, by=user_with_role("Finance Manager"))
    assert [issue(first).number, issue(second).number] == ["DE01-CN-2026-000001", "DE01-CN-2026-000002"]
    assert NumberSeries.objects.get(legal_entity=entity, doc_type="credit_note", fiscal_year=2026).next_number == 3
    other = issued(entity, lines=LINES)
    third = approved(request(other, amount=D("5.00")))
    Invoice.objects.filter(pk=other.pk).update(status="void")
    with pytest.raises(InvalidTransition, match="void"):
        issue(third)
    assert NumberSeries.objects.get(legal_entity=entity, doc_type="credit_note", fiscal_year=2026).next_number == 3
    assert ISSUE < CN_DATE and ok()


# --- PDF -------------------------------------------------------------------------------------------

def test_pdf_is_stored_once_after_issue(setup, settings, tmp_path, django_capture_on_commit_callbacks):
    import io

    from pypdf import PdfReader

    from billing.services.credit_notes import credit_note_store_pdf

    settings.MEDIA_ROOT = tmp_path
    _, invoice, _ = setup
    with django_capture_on_commit_callbacks(execute=True):
        note = issue(approved(request(invoice, amount=D("100.00"))))
    note.refresh_from_db()
    content = note.pdf.read()
    text = " ".join((PdfReader(io.BytesIO(content)).pages[0].extract_text() or "").split())
    assert "DE01-CN-2026-000001" in text and invoice.number in text and "Billing error" in text
    assert f"{note.gross_total:,.2f} EUR" in text
    sha = note.pdf_sha256
    assert credit_note_store_pdf(credit_note_id=note.pk).pdf_sha256 == sha


# --- dashboard queue -----------------------------------------------------------------------------

def test_dashboard_queue_shows_what_each_approver_may_approve(setup, client):
    # given a large and a small request by a collector
    _, invoice, _ = setup
    collector = user_with_role("Collector")
    big = request(invoice, by=collector, amount=D("100.00"))   # 113.00 gross
    small = request(invoice, by=collector, amount=D("50.00"))  # tax 2.38 + 1.75 + 2.38 per line: 56.51
    assert (big.gross_total, small.gross_total) == (D("113.00"), D("56.51"))

    def queue(user) -> str:
        client.force_login(user)
        page = client.get("/").content.decode()
        start = page.find('data-panel="billing-credit-notes-awaiting"')
        return page[start:page.find("</div>\n  </div>", start)] if start >= 0 else ""

    # a billing specialist (limit 100.00) sees only the small one; a finance manager sees both
    specialist_queue = queue(user_with_role("Billing Specialist"))
    assert '<span class="fs-4 fw-semibold" data-testid="credit-note-count">1</span>' in specialist_queue
    assert "56.51 EUR" in specialist_queue and "113.00 EUR" not in specialist_queue
    manager_queue = queue(user_with_role("Finance Manager"))
    assert 'data-testid="credit-note-count">2</span>' in manager_queue
    # the requester never sees their own requests; a collector has no approval permission at all
    assert queue(collector) == ""
