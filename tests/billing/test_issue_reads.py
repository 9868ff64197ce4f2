"""Issuing in two transactions reads each draft once (issue 18, decision 0016): the posting phase
posts what the numbering phase read, unless a draft changed in between; and the objects the bulk
paths build positionally are the objects keyword construction would build."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import ImmutableDocumentError, Invoice, InvoiceNumberBlock
from billing.services import invoice_hold, invoice_issue, invoice_update_draft
from billing.services.invoices import invoices_number, invoices_post_numbered
from ledger.models import JournalEntry, JournalLine, LegalEntity, Period
from ledger.selectors import ar_reconciliation
from otc.bulk import new_instance
from otc.errors import InvalidTransition
from tests.factories.billing import ISSUE, de_entity, draft, specialist

pytestmark = pytest.mark.django_db
D = Decimal


def _ar_line(invoice: Invoice) -> JournalLine:
    return JournalLine.objects.get(entry_id=invoice.journal_entry_id, open_item__isnull=False)


def test_unchanged_drafts_are_posted_from_what_numbering_read():
    entity = de_entity()
    drafts = [draft(entity) for _ in range(3)]
    numbered = invoices_number(invoice_ids=[d.pk for d in drafts], issue_date=ISSUE)
    with CaptureQueriesContext(connection) as queries:
        issued = invoices_post_numbered(invoices=numbered, by=None)
    assert [i.pk for i in issued] == sorted(d.pk for d in drafts)
    # Neither the drafts nor their lines are read a second time (the invoice rows are locked and
    # read back as four columns; the only other invoice statements are the UPDATEs).
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if 'FROM "billing_invoiceline"' in s]
    assert not [s for s in sql if s.startswith('SELECT "billing_invoice"."id", "billing_invoice"."legal_entity_id"')]
    for invoice in Invoice.objects.filter(pk__in=[d.pk for d in drafts]):
        assert invoice.status == Invoice.Status.ISSUED
        assert invoice.gross_total == D("1190.00")  # 1,000.00 + 19% VAT
        assert _ar_line(invoice).amount == D("1190.00")
        assert invoice.due_date == ISSUE + dt.timedelta(days=invoice.payment_terms_days)
    assert all(row["difference"] == 0 for row in ar_reconciliation())


def test_a_draft_in_an_allocated_block_cannot_change_and_is_posted_as_numbering_read_it():
    """Since decision 0016 (session 10) the numbers are recorded in a block and the posting does
    not read the drafts again: so a draft in a block refuses every change (edit, hold, delete).
    The guarantee of the test this replaces stands: what is posted is the draft as it is."""
    entity = de_entity()
    same, edited = draft(entity), draft(entity)
    numbered = invoices_number(invoice_ids=[same.pk, edited.pk], issue_date=ISSUE)
    assert InvoiceNumberBlock.objects.count() == 1
    number = InvoiceNumberBlock.number_for(edited.pk)
    assert number and Invoice.objects.get(pk=edited.pk).number == ""  # the row is written once, at posting
    with pytest.raises(InvalidTransition, match="already has its number"):
        invoice_update_draft(invoice_id=edited.pk, data={"payment_terms_days": 14}, by=specialist(), lines=[
            {"description": "Platform subscription", "quantity": D("2"), "unit_price": D("1000.00"),
             "tax_category": "digital", "unit": "MON"}])
    with pytest.raises(InvalidTransition, match="already has its number"):
        invoice_hold(invoice_id=edited.pk, by=specialist(), reason="check")
    with pytest.raises(ImmutableDocumentError, match="already has its number"):
        Invoice.objects.get(pk=edited.pk).delete()
    issued = invoices_post_numbered(invoices=numbered, by=None)
    assert sorted(i.pk for i in issued) == sorted([same.pk, edited.pk])
    now = Invoice.objects.get(pk=edited.pk)
    assert (now.status, now.number) == (Invoice.Status.ISSUED, number)  # the number it was given
    assert now.gross_total == D("1190.00") and _ar_line(now).amount == D("1190.00")
    assert now.journal_entry.number == now.journal_number
    assert not InvoiceNumberBlock.objects.exists()
    assert all(row["difference"] == 0 for row in ar_reconciliation())


def test_a_draft_allocated_by_a_dead_chunk_issued_by_hand_keeps_its_number():
    """The detail page's button on a draft whose chunk died after numbering: the draft is issued
    with the number of its block (no gap, no second number), and struck off the block; the
    chunk's retry then posts the rest with theirs."""
    entity = de_entity()
    drafts = [draft(entity) for _ in range(3)]
    numbered = invoices_number(invoice_ids=[d.pk for d in drafts], issue_date=ISSUE)  # then the worker died
    allocated = [InvoiceNumberBlock.number_for(d.pk) for d in drafts]
    assert allocated == [f"DE01-INV-2026-{n:06d}" for n in (1, 2, 3)]
    by_hand = invoice_issue(invoice_id=drafts[1].pk, by=specialist(), issue_date=ISSUE)
    assert by_hand.number == allocated[1]
    (block,) = InvoiceNumberBlock.objects.all()
    assert [row[0] for row in block.rows] == [drafts[0].pk, drafts[2].pk]
    assert (block.first_invoice_id, block.last_invoice_id) == (drafts[0].pk, drafts[2].pk)
    retried = invoices_post_numbered(invoices=invoices_number(invoice_ids=[d.pk for d in drafts], issue_date=ISSUE),
                                     by=None)
    assert [i.pk for i in retried] == [drafts[0].pk, drafts[2].pk]
    assert list(Invoice.objects.filter(pk__in=[d.pk for d in drafts]).order_by("pk")
                .values_list("number", "status")) == [(n, "issued") for n in allocated]
    assert not InvoiceNumberBlock.objects.exists()
    assert invoices_post_numbered(invoices=numbered, by=None) == []  # the first delivery, late: nothing twice
    assert JournalEntry.objects.filter(kind="invoice").count() == 3
    assert all(row["difference"] == 0 for row in ar_reconciliation())


def test_a_draft_issued_meanwhile_is_left_alone():
    entity = de_entity()
    first = draft(entity)
    numbered = invoices_number(invoice_ids=[first.pk], issue_date=ISSUE)
    assert [i.pk for i in invoices_post_numbered(invoices=numbered, by=None)] == [first.pk]
    # A redelivered task posts the same numbered objects again: nothing is posted twice.
    assert invoices_post_numbered(invoices=numbered, by=None) == []
    assert JournalEntry.objects.filter(source_id=first.pk, kind="invoice").count() == 1


def test_new_instance_builds_what_keywords_build():
    entity = de_entity()
    period = Period.objects.filter(legal_entity=entity).first() or Period(pk=None)
    by = specialist()
    values = {"legal_entity_id": entity.pk, "number": "JE-X-1", "kind": "invoice", "entry_date": ISSUE,
              "document_date": ISSUE, "period_id": period.pk, "memo": "m", "source_type_id": None, "source_id": None,
              "source_reference": "r", "reverses_id": None, "posted_by_id": by.pk}
    built = new_instance(JournalEntry, values, {"legal_entity": entity, "posted_by": by})
    keywords = JournalEntry(legal_entity=entity, number="JE-X-1", kind="invoice", entry_date=ISSUE,
                            document_date=ISSUE, period_id=period.pk, memo="m", source_reference="r", posted_by=by)
    assert {f.attname: getattr(built, f.attname) for f in JournalEntry._meta.concrete_fields} == \
           {f.attname: getattr(keywords, f.attname) for f in JournalEntry._meta.concrete_fields}
    assert built._state.adding
    with CaptureQueriesContext(connection) as queries:  # the related objects given are cached
        assert built.legal_entity is entity and built.posted_by is by
    assert not queries.captured_queries
    # Callable defaults are called per instance (an invoice's JSON blocks are its own).
    a, b = new_instance(Invoice, {"currency": "EUR"}), new_instance(Invoice, {"currency": "EUR"})
    assert a.bill_to == {} and a.bill_to is not b.bill_to and a.status == Invoice.Status.DRAFT
    with pytest.raises(ValueError, match="differ"):
        new_instance(JournalEntry, {**values, "legal_entity_id": entity.pk + 1}, {"legal_entity": entity})
    assert isinstance(entity, LegalEntity)
