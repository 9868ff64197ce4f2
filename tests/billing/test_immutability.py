"""Issued invoices and credit notes, their lines and delivery records refuse changes to what was
printed: through the model (save, delete), the queryset (update, delete, bulk_update,
bulk_create of lines) and, on PostgreSQL, raw SQL UPDATE / DELETE / INSERT and TRUNCATE. Drafts
and the columns the services move (status, paid and credited amounts, the stored PDF once) stay
writable, including through the billing run's bulk paths."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, transaction

from billing.models import CreditNote, CreditNoteLine, Delivery, ImmutableDocumentError, Invoice, InvoiceLine
from billing.services import credit_note_approve, credit_note_issue, credit_note_request
from otc.bulk import bulk_insert_rows, bulk_update_rows
from otc.models import ApprovalLimit
from tests.factories.billing import de_entity, draft, issued
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def invoice():
    return issued(de_entity())


def issued_note(invoice: Invoice) -> CreditNote:
    manager = user_with_role("Finance Manager")
    ApprovalLimit.objects.get_or_create(kind="credit_note", role=manager.groups.get(), currency="EUR",
                                        defaults={"max_amount": D("10000.00")})
    note = credit_note_request(invoice_id=invoice.pk, by=user_with_role("Collector"), reason="billing_error",
                               explanation="Seats billed twice", amount=D("100.00"))
    credit_note_approve(credit_note_id=note.pk, by=manager)
    return credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"))


def stored(invoice: Invoice) -> tuple:
    return Invoice.objects.filter(pk=invoice.pk).values_list("number", "po_number", "due_date", "gross_total",
                                                             "customer_id").get()


# --- the ORM --------------------------------------------------------------------------------------

def test_orm_save_of_a_printed_column_is_refused(invoice):
    before = stored(invoice)
    invoice.po_number = "PO-CHANGED"
    with pytest.raises(ImmutableDocumentError, match="po_number cannot change"):
        invoice.save()
    with pytest.raises(ImmutableDocumentError):
        invoice.save(update_fields=["po_number"])
    invoice.refresh_from_db()
    invoice.due_date = invoice.due_date + dt.timedelta(days=30)
    with pytest.raises(ImmutableDocumentError, match="due_date"):
        invoice.save(update_fields=["due_date", "updated_at"])
    assert stored(invoice) == before


def test_orm_save_of_movable_columns_and_an_unchanged_row_passes(invoice):
    invoice.refresh_from_db()
    invoice.save()  # nothing printed changed
    invoice.status, invoice.amount_paid = Invoice.Status.PARTIALLY_PAID, D("10.00")
    invoice.save(update_fields=["status", "amount_paid", "updated_at"])
    invoice.pdf.save("a.pdf", ContentFile(b"%PDF-1.7 a"), save=False)  # the PDF is stored once...
    invoice.pdf_sha256 = hashlib.sha256(b"%PDF-1.7 a").hexdigest()
    invoice.save(update_fields=["pdf", "pdf_sha256"])
    invoice.pdf_sha256 = "0" * 64  # ...and never replaced
    with pytest.raises(ImmutableDocumentError, match="pdf_sha256"):
        invoice.save(update_fields=["pdf_sha256"])
    assert Invoice.objects.get(pk=invoice.pk).pdf_sha256 == hashlib.sha256(b"%PDF-1.7 a").hexdigest()


def test_queryset_update_of_printed_columns_is_refused_and_writes_nothing(invoice):
    a_draft = draft(invoice.legal_entity)
    before = stored(invoice)
    with pytest.raises(ImmutableDocumentError, match="gross_total"):
        Invoice.objects.filter(pk__in=[invoice.pk, a_draft.pk]).update(gross_total=D("1.00"), net_total=D("1.00"),
                                                                       tax_total=0)
    with pytest.raises(ImmutableDocumentError):
        Invoice.objects.bulk_update([invoice], ["po_number"])
    with pytest.raises(ImmutableDocumentError):
        InvoiceLine.objects.filter(invoice=invoice).update(net_amount=D("1.00"))
    assert stored(invoice) == before
    assert Invoice.objects.get(pk=a_draft.pk).gross_total == D("1190.00")
    # drafts and movable columns pass
    assert Invoice.objects.filter(pk=a_draft.pk).update(po_number="PO-1") == 1
    assert Invoice.objects.filter(pk=invoice.pk).update(amount_paid=D("5.00")) == 1


def test_delete_is_refused_for_the_document_its_lines_and_its_delivery_log(invoice):
    Delivery.objects.create(invoice=invoice, channel="email", status="sent", recipients="ap@example.com")
    with pytest.raises(ImmutableDocumentError, match="cannot be deleted"):
        invoice.delete()
    with pytest.raises(ImmutableDocumentError):
        Invoice.objects.filter(pk=invoice.pk).delete()
    with pytest.raises(ImmutableDocumentError):
        invoice.lines.first().delete()
    with pytest.raises(ImmutableDocumentError):
        InvoiceLine.objects.filter(invoice=invoice).delete()
    delivery = Delivery.objects.get()
    with pytest.raises(ImmutableDocumentError):
        delivery.delete()
    delivery.recipients = "someone-else@example.com"
    with pytest.raises(ImmutableDocumentError):
        delivery.save()
    with pytest.raises(ImmutableDocumentError):
        Delivery.objects.update(status="failed")
    assert (Invoice.objects.count(), InvoiceLine.objects.count(), Delivery.objects.get().recipients) == (
        1, 1, "ap@example.com")
    a_draft = draft(invoice.legal_entity)
    a_draft.delete()  # a draft may go, with its lines
    assert InvoiceLine.objects.count() == 1


def test_lines_cannot_be_added_to_or_changed_on_an_issued_invoice(invoice):
    line = invoice.lines.get()
    line.description = "Something else"
    with pytest.raises(ImmutableDocumentError):
        line.save()
    extra = InvoiceLine(invoice=invoice, position=2, description="Extra", quantity=1, unit_price=1, net_amount=1,
                        tax_code=line.tax_code, tax_rate=0, tax_amount=0)
    with pytest.raises(ImmutableDocumentError):
        extra.save()
    with pytest.raises(ImmutableDocumentError):
        InvoiceLine.objects.bulk_create([extra])
    assert list(invoice.lines.values_list("description", flat=True)) == ["Platform subscription"]


def test_issued_credit_note_and_its_lines_refuse_changes(invoice):
    note = issued_note(invoice)
    note.explanation = "changed"
    with pytest.raises(ImmutableDocumentError):
        note.save()
    with pytest.raises(ImmutableDocumentError):
        CreditNote.objects.filter(pk=note.pk).update(gross_total=D("1.00"), net_total=D("1.00"), tax_total=0)
    with pytest.raises(ImmutableDocumentError):
        CreditNote.objects.filter(pk=note.pk).delete()
    with pytest.raises(ImmutableDocumentError):
        CreditNoteLine.objects.filter(credit_note=note).update(net_amount=D("1.00"))
    with pytest.raises(ImmutableDocumentError):
        note.lines.first().delete()
    stored_note = CreditNote.objects.get(pk=note.pk)
    assert (stored_note.explanation, stored_note.gross_total, note.lines.count()) == (
        "Seats billed twice", D("119.0000"), 1)


# --- PostgreSQL: below the ORM -------------------------------------------------------------------

def raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.postgres
def test_raw_sql_update_of_printed_columns_is_refused_by_the_trigger(invoice):
    before = stored(invoice)
    for sql in ("UPDATE billing_invoice SET po_number = 'X' WHERE id = %s",
                "UPDATE billing_invoice SET customer_id = customer_id, due_date = due_date + 1 WHERE id = %s",
                "UPDATE billing_invoice SET status = 'draft' WHERE id = %s",
                "UPDATE billing_invoiceline SET net_amount = 1 WHERE invoice_id = %s"):
        with pytest.raises(DatabaseError, match="immutable"):
            raw(sql, [invoice.pk])
    assert stored(invoice) == before
    raw("UPDATE billing_invoice SET amount_paid = 10, status = 'partially_paid' WHERE id = %s", [invoice.pk])
    assert Invoice.objects.get(pk=invoice.pk).status == "partially_paid"


@pytest.mark.postgres
def test_raw_sql_delete_and_insert_are_refused_by_the_trigger(invoice):
    note = issued_note(invoice)
    Delivery.objects.create(invoice=invoice, channel="email", status="sent")
    for sql, param in (("DELETE FROM billing_invoice WHERE id = %s", invoice.pk),
                       ("DELETE FROM billing_invoiceline WHERE invoice_id = %s", invoice.pk),
                       ("DELETE FROM billing_creditnote WHERE id = %s", note.pk),
                       ("DELETE FROM billing_creditnoteline WHERE credit_note_id = %s", note.pk),
                       ("UPDATE billing_creditnote SET explanation = 'x' WHERE id = %s", note.pk),
                       ("DELETE FROM billing_delivery WHERE invoice_id = %s", invoice.pk),
                       ("UPDATE billing_delivery SET status = 'failed' WHERE invoice_id = %s", invoice.pk),
                       ("INSERT INTO billing_invoiceline (invoice_id, position, description, unit, quantity, unit_price,"
                        " discount_percent, net_amount, tax_code_id, tax_rate, tax_amount, revenue_account_code)"
                        " SELECT invoice_id, 9, 'x', unit, 1, 1, 0, 1, tax_code_id, 0, 0, '4000'"
                        " FROM billing_invoiceline WHERE invoice_id = %s", invoice.pk)):
        with pytest.raises(DatabaseError, match="immutable"):
            raw(sql, [param])
    assert (Invoice.objects.count(), InvoiceLine.objects.count(), CreditNote.objects.count(),
            CreditNoteLine.objects.count(), Delivery.objects.count()) == (1, 1, 1, 1, 1)


@pytest.mark.postgres
def test_the_invoice_guard_runs_only_for_rows_past_draft_and_still_refuses_them(invoice):
    """The trigger calls its function only `WHEN (OLD.status <> 'draft')` (billing 0014): a draft
    stays writable and deletable by raw SQL; once issued, the same statements are refused."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'billing_invoice_immutable'")
        (definition,) = cursor.fetchone()
    assert "BEFORE DELETE OR UPDATE" in definition and "WHEN (((old.status)::text <> 'draft'::text))" in definition
    second = draft(invoice.legal_entity)
    raw("UPDATE billing_invoice SET po_number = 'PO-RAW', due_date = due_date + 1 WHERE id = %s", [second.pk])
    assert Invoice.objects.get(pk=second.pk).po_number == "PO-RAW"
    raw("UPDATE billing_invoice SET status = 'issued', number = 'RAW-1' WHERE id = %s", [second.pk])
    for sql in ("UPDATE billing_invoice SET po_number = 'PO-LATER' WHERE id = %s",
                "UPDATE billing_invoice SET status = 'draft' WHERE id = %s",
                "DELETE FROM billing_invoice WHERE id = %s"):
        with pytest.raises(DatabaseError, match="immutable"):
            raw(sql, [second.pk])
    assert Invoice.objects.filter(pk=second.pk).values_list("status", "po_number").get() == ("issued", "PO-RAW")
    third = draft(invoice.legal_entity)
    raw("DELETE FROM billing_invoiceline WHERE invoice_id = %s", [third.pk])
    raw("DELETE FROM billing_invoice WHERE id = %s", [third.pk])
    assert not Invoice.objects.filter(pk=third.pk).exists()


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["billing_invoice", "billing_invoiceline", "billing_creditnote",
                                   "billing_creditnoteline", "billing_delivery", "billing_portalsubmission"])
def test_truncate_is_refused_by_a_statement_trigger(invoice, table):
    raw("SET CONSTRAINTS ALL IMMEDIATE", [])  # no pending foreign-key checks: TRUNCATE reaches the trigger
    with pytest.raises(DatabaseError, match="TRUNCATE is refused"):
        raw(f"TRUNCATE {table} CASCADE", [])
    assert Invoice.objects.filter(pk=invoice.pk).exists()


@pytest.mark.postgres
def test_bulk_paths_still_write_drafts_and_movable_columns(invoice):
    """The billing run's paths: COPY of many draft lines, UPDATE ... FROM VALUES issuing drafts and
    moving paid amounts; the same UPDATE of a printed column of an issued invoice is refused."""
    from otc import bulk

    drafts = [draft(invoice.legal_entity) for _ in range(3)]
    template = drafts[0].lines.get()
    lines = [InvoiceLine(invoice=d, position=10 + i, description=f"Seat block {i}", quantity=1, unit_price=1,
                         net_amount=1, tax_code=template.tax_code, tax_rate=template.tax_rate, tax_amount=0)
             for d in drafts for i in range(10)]
    assert len(lines) >= bulk.COPY_THRESHOLD  # COPY, not INSERT
    bulk_insert_rows(lines)
    assert InvoiceLine.objects.filter(invoice__in=drafts).count() == 33
    for d in drafts:
        d.po_number = "PO-BULK"
    assert bulk_update_rows(drafts, ["po_number"]) == 3
    invoice.amount_paid, invoice.status = D("10.00"), Invoice.Status.PARTIALLY_PAID
    assert bulk_update_rows([invoice], ["amount_paid", "status"]) == 1
    invoice.po_number = "PO-LATE"
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        bulk_update_rows([invoice], ["po_number"])
    late = [InvoiceLine(invoice=invoice, position=20 + i, description="late", quantity=1, unit_price=1, net_amount=1,
                        tax_code=template.tax_code, tax_rate=template.tax_rate, tax_amount=0)
            for i in range(bulk.COPY_THRESHOLD)]
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        bulk_insert_rows(late)
    assert Invoice.objects.get(pk=invoice.pk).po_number == ""
    assert invoice.lines.count() == 1
