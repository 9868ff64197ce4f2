"""Invoices: line rounding, manual drafts, issuing (numbers, postings), refusals, void, hold,
immutability."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Invoice, InvoiceLine
from billing.services import (
    invoice_compute_line,
    invoice_hold,
    invoice_issue,
    invoice_release,
    invoice_update_draft,
    invoice_void,
    invoices_issue,
)
from ledger.models import JournalEntry, NumberSeries, OpenItem
from ledger.selectors import ar_reconciliation
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import OutboxEvent, StatusChange
from tests.factories.billing import ISSUE, de_entity, draft, issued, specialist
from tests.factories.contracts import ProductFactory
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import post_receipt
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal


def series_next(entity, year: int = 2026) -> int | None:
    row = NumberSeries.objects.filter(legal_entity=entity, doc_type="invoice", fiscal_year=year).first()
    return row.next_number if row else None


# --- computing ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("qty", "price", "disc", "rate", "cur", "net", "tax"), [
    ("3", "33.335", "0", "19", "EUR", "100.01", "19.00"),     # 100.005 rounds half up
    ("1", "99.99", "12.5", "19", "EUR", "87.49", "16.62"),     # 87.49125 ; 16.6231
    ("3", "333.5", "0", "10", "JPY", "1001", "100"),           # JPY has no decimals
    ("1", "10.0005", "0", "5", "KWD", "10.001", "0.500"),      # KWD has three
    ("2", "0.125", "0", "20", "GBP", "0.25", "0.05"),
])
def test_compute_line_rounds_net_and_tax_once_per_line(qty, price, disc, rate, cur, net, tax):
    assert invoice_compute_line(quantity=D(qty), unit_price=D(price), discount_percent=D(disc), tax_rate=D(rate),
                                currency=cur) == (D(net), D(tax))


def test_compute_line_refuses_impossible_discounts():
    with pytest.raises(ValidationFailed):
        invoice_compute_line(quantity=D(1), unit_price=D(1), discount_percent=D(101), tax_rate=D(0), currency="EUR")


def test_manual_invoice_totals_sum_the_rounded_lines():
    entity = de_entity()
    line = {"description": "Seat", "quantity": D("1"), "unit_price": D("7.455"), "tax_category": "digital"}
    invoice = draft(entity, lines=[line, line, line])
    # each line: net 7.46, tax 1.42 (1.4174); rounding the total instead would give 22.37 / 4.25
    assert (invoice.status, invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        "draft", D("22.38"), D("4.26"), D("26.64"))
    assert list(invoice.lines.values_list("tax_code__code", "tax_rate", "net_amount", "tax_amount")) == [
        ("DE-VAT-DIG", D("19.0000"), D("7.4600"), D("1.4200"))] * 3


def test_manual_invoice_totals_3_x_33_335():
    # 100.02 + 18.99 is 119.00999999999999 in SQLite's floating point: the gross check rounds.
    entity = de_entity()
    line = {"description": "Seat", "quantity": D("1"), "unit_price": D("33.335"), "tax_category": "digital"}
    invoice = draft(entity, lines=[line, line, line])
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (D("100.02"), D("18.99"), D("119.01"))


def test_manual_invoice_takes_tax_category_and_account_from_the_product():
    entity = de_entity()
    product = ProductFactory(tax_category="reduced", revenue_account_code="4300", unit="C62", name="Handbook")
    invoice = draft(entity, lines=[{"product": product, "quantity": D("2"), "unit_price": D("50.00")}])
    line = invoice.lines.get()
    assert (line.description, line.tax_code.code, line.tax_amount, line.revenue_account_code) == (
        "Handbook", "DE-VAT-RED", D("7.0000"), "4300")


def test_manual_invoice_with_zero_day_terms_is_due_on_receipt(today):
    today(ISSUE)
    entity = de_entity()
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH", payment_terms_days=45)
    invoice = draft(entity, customer=customer, payment_terms_days=0)
    assert invoice.payment_terms_days == 0
    issued_invoice = invoices_issue(invoice_ids=[invoice.pk], by=None, issue_date=ISSUE, queue_documents=False)[0]
    assert (issued_invoice.issue_date, issued_invoice.due_date) == (ISSUE, ISSUE)
    assert draft(entity, customer=customer).payment_terms_days == 45  # absent: the customer's default


def test_manual_invoice_needs_permission_and_writes_nothing():
    entity = de_entity()
    with pytest.raises(PermissionDenied):
        draft(entity, by=user_with_role("Collector"))
    assert not Invoice.objects.exists()


# --- issuing -------------------------------------------------------------------------------------

def test_issue_posts_a_balanced_entry_and_opens_the_item():
    entity = de_entity()
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH", tax_id="DE811569869")
    invoice = draft(entity, customer=customer, lines=[
        {"description": "Subscription", "quantity": D("1"), "unit_price": D("1000.00"), "tax_category": "digital"},
        {"description": "Consulting", "quantity": D("4"), "unit_price": D("125.00"), "tax_category": "services",
         "revenue_account_code": "4200"},
    ])
    by = specialist()
    [inv] = invoices_issue(invoice_ids=[invoice.pk], by=by, issue_date=ISSUE, queue_documents=False)
    inv.refresh_from_db()
    assert (inv.number, inv.status, inv.issue_date, inv.due_date, inv.issued_by) == (
        "DE01-INV-2026-000001", "issued", ISSUE, dt.date(2026, 4, 30), by)
    assert (inv.net_total, inv.tax_total, inv.gross_total) == (D("1500.00"), D("285.00"), D("1785.00"))
    entry = inv.journal_entry
    assert (entry.kind, entry.source, entry.source_reference, entry.document_date) == ("invoice", inv, inv.number, ISSUE)
    assert sorted((line.account.code, line.amount, line.customer_id) for line in entry.lines.all()) == [
        ("1100", D("1785.0000"), customer.id), ("2200", D("-285.0000"), None),
        ("4000", D("-1000.0000"), None), ("4200", D("-500.0000"), None)]
    item = inv.open_item
    assert (item.document_number, item.original_amount, item.open_amount, item.due_date, item.customer_id) == (
        inv.number, D("1785.0000"), D("1785.0000"), dt.date(2026, 4, 30), customer.id)
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.id))
    assert inv.bill_to["legal_name"] == "Kunde Eins GmbH" and inv.bill_to["tax_id"] == "DE811569869"
    assert inv.seller["tax_id"] == "DE136695976" and inv.seller["iban"] == "DE89370400440532013000"
    assert StatusChange.objects.filter(object_id=inv.pk, from_state="draft", to_state="issued", by=by).exists()
    assert OutboxEvent.objects.filter(topic="invoice.issued", subject_id=inv.pk).get().payload["gross_total"] == "1785.00"


def test_numbers_are_gapless_per_entity_and_year():
    a, b = de_entity("DEA"), de_entity("DEB")
    drafts = [draft(a), draft(b), draft(a), draft(a), draft(b)]
    done = invoices_issue(invoice_ids=[d.pk for d in drafts], by=None, issue_date=dt.date(2026, 12, 31),
                          queue_documents=False)
    assert sorted(i.number for i in done) == [
        "DEA-INV-2026-000001", "DEA-INV-2026-000002", "DEA-INV-2026-000003",
        "DEB-INV-2026-000001", "DEB-INV-2026-000002"]
    assert [Invoice.objects.get(pk=d.pk).number for d in drafts if d.legal_entity_id == a.id] == [
        "DEA-INV-2026-000001", "DEA-INV-2026-000002", "DEA-INV-2026-000003"]  # in primary-key order
    later = invoices_issue(invoice_ids=[draft(a).pk], by=None, issue_date=dt.date(2026, 12, 31), queue_documents=False)
    new_year = invoices_issue(invoice_ids=[draft(a).pk, draft(b).pk], by=None, issue_date=dt.date(2027, 1, 1),
                              queue_documents=False)
    assert later[0].number == "DEA-INV-2026-000004"
    assert [i.number for i in new_year] == ["DEA-INV-2027-000001", "DEB-INV-2027-000001"]
    assert (series_next(a, 2026), series_next(a, 2027)) == (5, 2)


def test_refused_and_skipped_drafts_write_nothing_and_take_no_number():
    entity = de_entity()
    held, plain = draft(entity), draft(entity)
    invoice_hold(invoice_id=held.pk, by=specialist(), reason="Customer disputes the price")
    with pytest.raises(PermissionDenied):
        invoices_issue(invoice_ids=[plain.pk], by=user_with_role("Sales Rep"), issue_date=ISSUE)
    result = invoices_issue(invoice_ids=[held.pk, 999999], by=specialist(), issue_date=ISSUE)
    assert list(result) == []
    assert result.skipped == {held.pk: "on hold: Customer disputes the price", 999999: "does not exist"}
    with pytest.raises(InvalidTransition, match="on hold"):
        invoice_issue(invoice_id=held.pk, by=specialist(), issue_date=ISSUE)
    assert series_next(entity) is None
    assert not JournalEntry.objects.exists() and not OpenItem.objects.exists()
    assert set(Invoice.objects.values_list("status", "number")) == {("draft", "")}


def test_already_issued_invoice_is_skipped_and_refused():
    entity = de_entity()
    inv = issued(entity)
    result = invoices_issue(invoice_ids=[inv.pk], by=None, issue_date=ISSUE)
    assert (list(result), result.skipped) == ([], {inv.pk: "already issued"})
    with pytest.raises(InvalidTransition, match="already issued"):
        invoice_issue(invoice_id=inv.pk, by=specialist())
    assert (series_next(entity), JournalEntry.objects.count()) == (2, 1)


def test_a_failure_rolls_back_the_whole_chunk_and_returns_the_numbers():
    entity = de_entity()
    good = draft(entity)
    bad = draft(entity, lines=[{"description": "X", "quantity": D(1), "unit_price": D("10.00"),
                                "tax_category": "digital", "revenue_account_code": "9999"}])
    with pytest.raises(ValidationFailed, match="no revenue account 9999"):
        invoices_issue(invoice_ids=[good.pk, bad.pk], by=None, issue_date=ISSUE)
    assert set(Invoice.objects.values_list("status", "number")) == {("draft", "")}
    assert series_next(entity) is None and not JournalEntry.objects.exists()
    assert invoices_issue(invoice_ids=[good.pk], by=None, issue_date=ISSUE, queue_documents=False)[0].number == \
        "DE01-INV-2026-000001"


def test_zero_total_invoice_is_numbered_without_a_posting():
    entity = de_entity()
    inv = issued(entity, lines=[{"description": "Free first month", "quantity": D(1), "unit_price": D("0.00"),
                                 "tax_category": "digital"}])
    assert (inv.number, inv.status, inv.gross_total, inv.journal_entry_id, inv.open_item_id) == (
        "DE01-INV-2026-000001", "issued", D("0.00"), None, None)
    assert not JournalEntry.objects.filter(kind="invoice").exists()


def test_reverse_charge_invoice_posts_no_tax_line():
    entity = de_entity()
    customer = CustomerFactory(country="FR", legal_name="Client SARL", tax_id="FR40303265045")
    inv = issued(entity, customer=customer)
    assert (inv.tax_total, inv.gross_total) == (D("0.00"), D("1000.00"))
    assert sorted(line.account.code for line in inv.journal_entry.lines.all()) == ["1100", "4000"]


def test_foreign_currency_invoice_posts_at_the_dated_rate():
    from tests.factories.ledger import FxRateFactory

    entity = de_entity()
    FxRateFactory(date=ISSUE, from_currency="USD", to_currency="EUR", rate=D("0.9000000000"))
    inv = issued(entity, customer=CustomerFactory(country="US", legal_name="Acme Inc"), currency="USD")
    ar = inv.journal_entry.lines.get(account__code="1100")
    assert (ar.currency, ar.amount, ar.functional_amount) == ("USD", D("1000.0000"), D("900.0000"))


# --- immutability ----------------------------------------------------------------------------------

def test_issued_invoice_cannot_be_changed_through_services():
    entity = de_entity()
    inv = issued(entity)
    before = list(InvoiceLine.objects.filter(invoice=inv).values())
    with pytest.raises(InvalidTransition, match="cannot be changed"):
        invoice_update_draft(invoice_id=inv.pk, data={"po_number": "PO-9"}, by=specialist(), lines=[
            {"description": "Cheaper", "quantity": D(1), "unit_price": D("1.00"), "tax_category": "digital"}])
    with pytest.raises(InvalidTransition):
        invoice_hold(invoice_id=inv.pk, by=specialist(), reason="late")
    inv.refresh_from_db()
    assert (inv.po_number, inv.gross_total) == ("", D("1190.00"))
    assert list(InvoiceLine.objects.filter(invoice=inv).values()) == before


def test_draft_can_be_changed_and_totals_follow():
    entity = de_entity()
    inv = draft(entity)
    inv = invoice_update_draft(invoice_id=inv.pk, data={"po_number": "PO-1"}, by=specialist(), lines=[
        {"description": "Seats", "quantity": D(10), "unit_price": D("12.50"), "tax_category": "digital"}])
    assert (inv.po_number, inv.net_total, inv.tax_total, inv.gross_total) == ("PO-1", D("125.00"), D("23.75"), D("148.75"))


# --- hold and release -------------------------------------------------------------------------------

def test_hold_and_release():
    entity = de_entity()
    inv = draft(entity)
    with pytest.raises(PermissionDenied):
        invoice_hold(invoice_id=inv.pk, by=user_with_role("Collector"), reason="x")
    with pytest.raises(ValidationFailed):
        invoice_hold(invoice_id=inv.pk, by=specialist(), reason=" ")
    invoice_hold(invoice_id=inv.pk, by=specialist(), reason="Waiting for PO")
    inv.refresh_from_db()
    assert (inv.on_hold, inv.hold_reason) == (True, "Waiting for PO")
    with pytest.raises(ValidationFailed, match="Say why"):
        invoice_release(invoice_id=inv.pk, by=specialist(), reason="")
    invoice_release(invoice_id=inv.pk, by=specialist(), reason="PO received")
    inv.refresh_from_db()
    assert (inv.on_hold, inv.hold_reason) == (False, "")
    assert list(StatusChange.objects.filter(object_id=inv.pk, field="hold_state").values_list("to_state", flat=True)
                .order_by("id")) == ["on_hold", "released"]
    assert invoices_issue(invoice_ids=[inv.pk], by=None, issue_date=ISSUE, queue_documents=False)[0].number


# --- void ------------------------------------------------------------------------------------------

def test_void_posts_the_reversal_closes_the_item_and_keeps_the_number(today):
    today(dt.date(2026, 4, 2))
    entity = de_entity()
    inv = issued(entity)
    controller = user_with_role("Controller")
    inv = invoice_void(invoice_id=inv.pk, by=controller, reason="Duplicate of DE01-INV-2026-000000")
    inv.refresh_from_db()
    assert (inv.status, inv.number, inv.voided_by, inv.void_reason) == (
        "void", "DE01-INV-2026-000001", controller, "Duplicate of DE01-INV-2026-000000")
    reversal = inv.void_entry
    assert (reversal.kind, reversal.reverses_id, reversal.document_date) == ("reversal", inv.journal_entry_id,
                                                                             dt.date(2026, 4, 2))
    assert sorted((line.account.code, line.amount) for line in reversal.lines.all()) == [
        ("1100", D("-1190.0000")), ("2200", D("190.0000")), ("4000", D("1000.0000"))]
    inv.open_item.refresh_from_db()
    assert inv.open_item.open_amount == 0
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.id))
    assert OutboxEvent.objects.filter(topic="invoice.voided", subject_id=inv.pk).exists()
    with pytest.raises(InvalidTransition):
        invoice_void(invoice_id=inv.pk, by=controller, reason="again")


def test_void_refused_without_permission_or_when_paid_or_credited():
    entity = de_entity()
    inv = issued(entity)
    with pytest.raises(PermissionDenied):
        invoice_void(invoice_id=inv.pk, by=specialist(), reason="oops")
    post_receipt(inv.open_item, "100.00", date=ISSUE)
    with pytest.raises(InvalidTransition, match="partly settled"):
        invoice_void(invoice_id=inv.pk, by=user_with_role("Finance Manager"), reason="oops")
    credited = issued(entity)
    Invoice.objects.filter(pk=credited.pk).update(amount_credited=D("10.00"))
    with pytest.raises(InvalidTransition, match="credit note"):
        invoice_void(invoice_id=credited.pk, by=user_with_role("Controller"), reason="oops")
    assert set(Invoice.objects.values_list("status", flat=True)) == {"issued"}
    assert not JournalEntry.objects.filter(kind="reversal").exists()


def test_a_large_chunk_posts_every_invoice_exactly(monkeypatch):
    """Thirty drafts in one call go through the bulk paths (COPY on PostgreSQL): every invoice
    keeps its own totals, entry, open item, history, status row and event, in number order."""
    from otc import bulk

    monkeypatch.setattr(bulk, "COPY_THRESHOLD", 5)
    entity = de_entity()
    customers = [CustomerFactory(country="DE", legal_name=f"Kunde {n} GmbH") for n in range(3)]
    drafts = [draft(entity, customer=customers[n % 3], lines=[
        {"description": f"Seats\tfor {n}", "quantity": D(n + 1), "unit_price": D("33.335"), "tax_category": "digital"},
        {"description": "Consulting", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "services",
         "revenue_account_code": "4200"},
    ]) for n in range(30)]
    by = specialist()
    done = invoices_issue(invoice_ids=[d.pk for d in drafts], by=by, issue_date=ISSUE, queue_documents=False)
    assert len(done) == 30
    for n, d in enumerate(drafts):
        inv = Invoice.objects.select_related("journal_entry", "open_item").get(pk=d.pk)
        net = (D(n + 1) * D("33.335")).quantize(D("0.01"), rounding="ROUND_HALF_UP") + D("100.00")
        tax = (net * D("0.19")).quantize(D("0.01"), rounding="ROUND_HALF_UP")
        assert inv.number == f"DE01-INV-2026-{n + 1:06d}" and inv.status == "issued"
        assert abs(inv.tax_total - tax) <= D("0.01") and inv.gross_total == inv.net_total + inv.tax_total
        lines = list(inv.journal_entry.lines.all())
        assert sum(line.amount for line in lines) == 0 and len(lines) == 4
        assert [line.description for line in lines if line.open_item_id] == [f"Invoice {inv.number}"]
        assert (inv.open_item.original_amount, inv.open_item.customer_id) == (inv.gross_total, inv.customer_id)
        assert inv.history.filter(history_type="~", history_change_reason="issued", history_user=by).count() == 1
        assert StatusChange.objects.filter(object_id=inv.pk, to_state="issued", by=by).count() == 1
        assert OutboxEvent.objects.get(topic="invoice.issued", subject_id=inv.pk).payload["number"] == inv.number
    assert JournalEntry.objects.filter(kind="invoice").count() == 30
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.id))
    assert series_next(entity) == 31


def test_a_product_list_price_in_another_currency_is_never_used():
    entity = de_entity()
    usd_product = ProductFactory(tax_category="digital", default_price=D("99.00"), currency="USD")
    with pytest.raises(ValidationFailed, match="give a unit price in EUR"):
        draft(entity, lines=[{"product": usd_product, "quantity": D("1")}])
    eur_product = ProductFactory(tax_category="digital", default_price=D("80.00"), currency="EUR")
    invoice = draft(entity, lines=[{"product": eur_product, "quantity": D("2")}])
    assert invoice.net_total == D("160.00")


def test_editing_a_draft_keeps_the_header_rules():
    entity = de_entity()
    po_customer = CustomerFactory(country="DE", po_required=True)
    invoice = draft(entity, customer=po_customer, po_number="PO-77")
    with pytest.raises(ValidationFailed, match="requires a PO number"):
        invoice_update_draft(invoice_id=invoice.pk, data={"po_number": ""}, lines=None, by=specialist())
    with pytest.raises(ValidationFailed, match="Payment terms"):
        invoice_update_draft(invoice_id=invoice.pk, data={"payment_terms_days": None}, lines=None, by=specialist())
    invoice.refresh_from_db()
    assert (invoice.po_number, invoice.payment_terms_days) == ("PO-77", po_customer.payment_terms_days)
