"""Issuing in two transactions reads each draft once (issue 18, decision 0016): the posting phase
posts what the numbering phase read, unless a draft changed in between; and the objects the bulk
paths build positionally are the objects keyword construction would build."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice
from billing.services import invoice_issue, invoice_update_draft
from billing.services.invoices import invoices_number, invoices_post_numbered
from ledger.models import JournalEntry, JournalLine, LegalEntity, OpenItem, Period
from ledger.selectors import ar_reconciliation
from otc.bulk import new_instance
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


def test_a_draft_changed_after_numbering_is_posted_as_it_is_now():
    entity = de_entity()
    same, edited = draft(entity), draft(entity)
    numbered = invoices_number(invoice_ids=[same.pk, edited.pk], issue_date=ISSUE)
    number = Invoice.objects.get(pk=edited.pk).number
    # Between the two transactions a person edits the numbered draft: new terms, a new line.
    invoice_update_draft(invoice_id=edited.pk, data={"payment_terms_days": 14}, by=specialist(), lines=[
        {"description": "Platform subscription", "quantity": D("2"), "unit_price": D("1000.00"),
         "tax_category": "digital", "unit": "MON"}])
    issued = invoices_post_numbered(invoices=numbered, by=None)
    assert sorted(i.pk for i in issued) == sorted([same.pk, edited.pk])
    now = Invoice.objects.get(pk=edited.pk)
    assert (now.status, now.number) == (Invoice.Status.ISSUED, number)  # the number it was given
    assert now.gross_total == D("2380.00")  # the edited lines, not those read at numbering
    assert now.due_date == ISSUE + dt.timedelta(days=14)
    assert _ar_line(now).amount == D("2380.00")
    assert OpenItem.objects.get(pk=now.open_item_id).open_amount == D("2380.00")
    assert Invoice.objects.get(pk=same.pk).gross_total == D("1190.00")
    assert all(row["difference"] == 0 for row in ar_reconciliation())


def test_a_draft_issued_meanwhile_is_left_alone():
    entity = de_entity()
    first = draft(entity)
    numbered = invoices_number(invoice_ids=[first.pk], issue_date=ISSUE)
    assert [i.pk for i in invoices_post_numbered(invoices=numbered, by=None)] == [first.pk]
    # A redelivered task posts the same numbered objects again: nothing is posted twice.
    assert invoices_post_numbered(invoices=numbered, by=None) == []
    assert JournalEntry.objects.filter(source_id=first.pk, kind="invoice").count() == 1


def test_a_draft_numbered_by_a_dead_chunk_issued_by_hand_keeps_its_number():
    """The detail page's button on a draft whose chunk died after numbering: it is issued with
    the number the chunk took (no gap, no second number); the chunk's retry posts the rest with
    theirs, and the first delivery, arriving late, posts nothing twice."""
    entity = de_entity()
    drafts = [draft(entity) for _ in range(3)]
    numbered = invoices_number(invoice_ids=[d.pk for d in drafts], issue_date=ISSUE)  # then the worker died
    taken = [i.number for i in numbered]
    assert taken == [f"DE01-INV-2026-{n:06d}" for n in (1, 2, 3)]
    assert invoice_issue(invoice_id=drafts[1].pk, by=specialist(), issue_date=ISSUE).number == taken[1]
    retried = invoices_post_numbered(invoices=invoices_number(invoice_ids=[d.pk for d in drafts], issue_date=ISSUE),
                                     by=None)
    assert [i.pk for i in retried] == [drafts[0].pk, drafts[2].pk]
    assert list(Invoice.objects.filter(pk__in=[d.pk for d in drafts]).order_by("pk")
                .values_list("number", "status")) == [(n, "issued") for n in taken]
    assert invoices_post_numbered(invoices=numbered, by=None) == []
    assert JournalEntry.objects.filter(kind="invoice").count() == 3
    assert all(row["difference"] == 0 for row in ar_reconciliation())


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
    assert built._state.fields_cache == keywords._state.fields_cache == {"legal_entity": entity, "posted_by": by}
    again = new_instance(JournalEntry, {**values, "posted_by_id": None}, {"legal_entity": entity, "posted_by": None})
    assert again._state.fields_cache == {"legal_entity": entity, "posted_by": None}  # the kept field lookups
    with CaptureQueriesContext(connection) as queries:  # the related objects given are cached
        assert built.legal_entity is entity and built.posted_by is by
    assert not queries.captured_queries
    # Callable defaults are called per instance (an invoice's JSON blocks are its own).
    a, b = new_instance(Invoice, {"currency": "EUR"}), new_instance(Invoice, {"currency": "EUR"})
    assert a.bill_to == {} and a.bill_to is not b.bill_to and a.status == Invoice.Status.DRAFT
    with pytest.raises(ValueError, match="differ"):
        new_instance(JournalEntry, {**values, "legal_entity_id": entity.pk + 1}, {"legal_entity": entity})
    assert isinstance(entity, LegalEntity)


def test_new_instance_without_the_constructor_is_the_constructors_instance():
    """new_instance skips Model.__init__ when no pre_init/post_init receiver listens for the
    model: the instance has the same values, state, file field and foreign-key behaviour as the
    positional constructor's; with a receiver connected it goes through the constructor."""
    from django.db.models.signals import post_init

    entity = de_entity()
    values = {"legal_entity_id": entity.pk, "currency": "EUR", "number": "DE-1", "pdf": "invoices/a.pdf"}
    built = new_instance(Invoice, values)
    row = [values.get(f.attname, f.get_default()) for f in Invoice._meta.concrete_fields]
    positional = Invoice(*row)
    names = [f.attname for f in Invoice._meta.concrete_fields if f.attname not in ("bill_to", "seller")]
    assert [getattr(built, n) for n in names] == [getattr(positional, n) for n in names]
    assert type(built) is Invoice and (built._state.adding, built._state.db) == (positional._state.adding, None)
    assert built._state.adding and built._state.db is None and built.pk is None
    assert built.pdf.name == "invoices/a.pdf" and built.pdf.instance is built  # the file descriptor wraps it
    assert built.legal_entity == entity  # read through the key
    built.legal_entity_id = entity.pk + 1  # the cached object is forgotten when the key changes
    assert built.legal_entity_id == entity.pk + 1 and not Invoice._meta.get_field("legal_entity").is_cached(built)

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Invoice)
    try:
        listened = new_instance(Invoice, values)
    finally:
        post_init.disconnect(receiver, sender=Invoice)
    assert seen == [listened]  # the constructor ran: the receiver saw the instance


def _read_as_django_reads(model, pk, *, deferred: tuple[str, str], checked: str):
    """Read row `pk` of `model` as the application does and check it against the object Django's
    own `from_db` builds from the same row (every value, the state); a read with deferred columns
    (`deferred`) loads `checked` when asked; a read while a post_init receiver listens takes
    Django's path (the receiver sees it). Returns the object read and Django's own."""
    from django.db.models import Model
    from django.db.models.signals import post_init

    names = [f.attname for f in model._meta.concrete_fields]
    row = list(model.objects.filter(pk=pk).values_list(*names).get())
    django_own = Model.from_db.__func__(model, "default", names, row)
    read = model.objects.get(pk=pk)
    assert type(read) is model and (read._state.adding, read._state.db) == (False, "default")
    assert [getattr(read, n) for n in names] == [getattr(django_own, n) for n in names]

    partial = model.objects.only(*deferred).get(pk=pk)
    assert partial.get_deferred_fields() and getattr(partial, checked) == getattr(read, checked)  # loaded when read

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=model)
    try:
        listened = model.objects.get(pk=pk)
    finally:
        post_init.disconnect(receiver, sender=model)
    assert seen == [listened] and not listened._state.adding
    return read, django_own


def test_invoices_read_from_the_database_are_djangos_objects_without_the_constructor():
    """`Invoice.from_db` (otc.bulk.instance_from_db): a whole row becomes the same object as
    Django's `from_db` builds (values, state, file field, keys), a row with deferred columns and
    a model with a post_init receiver go through Django's own path."""
    entity = de_entity()
    invoice = draft(entity)
    Invoice.objects.filter(pk=invoice.pk).update(pdf="invoices/a.pdf")
    read, _ = _read_as_django_reads(Invoice, invoice.pk, deferred=("pk", "number"), checked="currency")
    assert read.currency == invoice.currency
    assert read.pk == invoice.pk and read.gross_total == invoice.gross_total and read.lines.count() == 1
    assert read.pdf.name == "invoices/a.pdf" and read.pdf.instance is read
    assert read.legal_entity == entity
    read.status = Invoice.Status.DRAFT
    read.save(update_fields=["status"])  # an update, not an insert: the state says it was read
    assert Invoice.objects.count() == 1


def test_customers_read_from_the_database_are_djangos_objects_without_the_constructor():
    """`Customer.from_db` (otc.bulk.instance_from_db, as for invoices): a whole row becomes the
    object Django's `from_db` builds (every value, the state), saves as an update, and related
    reads work; a row with deferred columns and a post_init receiver take Django's path."""
    from customers.models import Customer
    from otc.bulk import _without_init

    assert _without_init(Customer) is not None  # built without the constructor (no receiver, plain descriptors)
    invoice = draft(de_entity())
    customer = invoice.customer
    read, django_own = _read_as_django_reads(Customer, customer.pk, deferred=("pk", "legal_name"), checked="country")
    assert read.__dict__.keys() == django_own.__dict__.keys()
    assert read.country == customer.country
    assert list(Customer.objects.in_bulk([customer.pk]).values())[0].legal_name == customer.legal_name
    assert read.invoices.get() == invoice
    read.notes = "read without the constructor"
    read.save(update_fields=["notes"])  # an update, not an insert
    assert Customer.objects.count() == 1 and Customer.objects.get(pk=customer.pk).notes == "read without the constructor"
