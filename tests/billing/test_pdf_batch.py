"""Month-end documents: a documents task renders its chunk's invoice PDFs (ReportLab, the same
bytes as alone, any number of pages); what a batch cannot give is rendered alone; the chunk's
e-mails go on one mail connection, once each. And the WeasyPrint batch of the reference rendering
(one layout for many, split into one PDF each: decision 0015), kept for the benchmark's baseline."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from pypdf import PdfReader

import billing.pdf
from billing.models import Delivery, Invoice
from billing.pdf import (
    invoice_render_pdf,
    invoice_render_pdf_weasyprint,
    invoices_render_pdfs,
)
from billing.tasks import invoices_publish_task
from tests.factories.billing import de_entity, issued, reverse_charge_and_exempt_customers
from tests.factories.customers import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def pages_text(content: bytes) -> tuple[list[str], str]:
    reader = PdfReader(io.BytesIO(content))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages], reader.metadata.title


def three_invoices() -> list[Invoice]:
    entity = de_entity()
    fr, exempt = reverse_charge_and_exempt_customers()
    invoices = [
        issued(entity, customer=fr, po_number="PO-4711", lines=[
            {"description": "Platform subscription", "quantity": D("1"), "unit_price": D("1000.00"),
             "tax_category": "digital", "unit": "MON"},
            {"description": "Implementation days", "quantity": D("2.5"), "unit_price": D("800.00"),
             "discount_percent": D("10"), "tax_category": "services", "unit": "DAY"}]),
        issued(entity, lines=[
            {"description": "Subscription", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "digital"},
            {"description": "Printed handbook", "quantity": D("1"), "unit_price": D("50.00"), "tax_category": "reduced"}]),
        issued(entity, customer=exempt),
    ]
    return list(Invoice.objects.filter(pk__in=[i.pk for i in invoices]).select_related("legal_entity", "customer")
                .order_by("pk"))


def long_invoice_lines(n: int = 45) -> list[dict]:
    return [{"description": f"Usage block {i}", "quantity": D("1"), "unit_price": D("10.00"), "tax_category": "digital"}
            for i in range(n)]


def test_a_batch_gives_each_invoice_the_pdf_it_has_alone():
    invoices = three_invoices()
    batch = invoices_render_pdfs(invoices)
    assert set(batch) == {i.pk for i in invoices}
    for invoice in invoices:
        assert batch[invoice.pk] == invoice_render_pdf(invoice)  # the same bytes
        pages, title = pages_text(batch[invoice.pk])
        assert len(pages) == 1 and pages[0].endswith("Page 1 of 1")
        assert invoice.number in pages[0] and title == f"Invoice {invoice.number}"
    # each PDF holds only its own invoice
    first, second, third = (pages_text(batch[i.pk])[0][0] for i in invoices)
    assert "Client Industrie SARL" in first and "Client Industrie SARL" not in second + third
    assert "Tax exemption reference: FA Berlin 27/640/12345" in third and "Tax exemption" not in first + second


def test_an_invoice_over_one_page_comes_from_the_batch_with_its_page_count():
    entity = de_entity()
    short = issued(entity)
    long = issued(entity, lines=long_invoice_lines())
    invoices = list(Invoice.objects.filter(pk__in=[short.pk, long.pk]).order_by("pk").select_related("legal_entity"))
    batch = invoices_render_pdfs(invoices)
    assert set(batch) == {short.pk, long.pk}
    stored = billing.pdf.invoice_store_pdf(invoice_id=long.pk, content=batch[long.pk])
    pages, _ = pages_text(stored.pdf.read())
    stored.pdf.close()
    assert len(pages) >= 2
    assert [page.rsplit("Page ", 1)[1] for page in pages] == [f"{n} of {len(pages)}" for n in range(1, len(pages) + 1)]


def test_one_failing_invoice_is_left_out_and_the_others_of_its_batch_still_render(monkeypatch):
    invoices = three_invoices()
    context = billing.pdf.invoice_pdf_context

    def failing_for_the_second(invoice):
        if invoice.pk == invoices[1].pk:
            raise RuntimeError("broken snapshot")
        return context(invoice)

    monkeypatch.setattr(billing.pdf, "invoice_pdf_context", failing_for_the_second)
    assert set(invoices_render_pdfs(invoices)) == {invoices[0].pk, invoices[2].pk}


def test_a_failing_batch_leaves_every_invoice_to_render_alone(monkeypatch):
    import billing.invoice_pdf

    invoices = three_invoices()
    monkeypatch.setattr(billing.invoice_pdf, "render_invoice",
                        lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("drawing failed")))
    assert invoices_render_pdfs(invoices) == {}


class CountingBackend(EmailBackend):
    """locmem, counting the connections opened and refusing one recipient."""
    opened = 0

    def open(self):
        CountingBackend.opened += 1
        return super().open()

    def send_messages(self, messages):
        for message in messages:
            if any(address.startswith("refused") for address in message.to):
                raise ConnectionResetError("recipient refused by the server")
        return super().send_messages(messages)


def test_publishing_a_chunk_renders_in_batches_and_mails_on_one_connection_once(settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.billing.test_pdf_batch.CountingBackend"
    CountingBackend.opened = 0
    invoices = three_invoices()
    for n, invoice in enumerate(invoices):
        ContactFactory(customer=invoice.customer, email=f"{'refused' if n == 1 else 'ap'}{n}@kunde.example")
    rendered_alone = []
    monkeypatch.setattr(billing.pdf, "invoice_render_pdf", lambda invoice: rendered_alone.append(invoice.pk))

    assert invoices_publish_task(invoice_ids=[i.pk for i in invoices]) == 3
    assert rendered_alone == []  # every PDF came from the batch
    statuses = dict(Delivery.objects.values_list("invoice_id", "status"))
    assert statuses == {invoices[0].pk: "sent", invoices[1].pk: "failed", invoices[2].pk: "sent"}
    assert CountingBackend.opened <= 2  # the chunk's connection (+ one reopen after the refusal)
    assert sorted(m.subject.split()[1] for m in mail.outbox) == [invoices[0].number, invoices[2].number]
    for invoice in Invoice.objects.filter(pk__in=[i.pk for i in invoices]):
        assert invoice.pdf_sha256 and invoice.number in pages_text(invoice.pdf.read())[0][0]
        invoice.pdf.close()

    # redelivered: nothing rendered or sent twice; only the failed e-mail is tried again
    assert invoices_publish_task(invoice_ids=[i.pk for i in invoices]) == 3
    assert rendered_alone == [] and len(mail.outbox) == 2
    assert Delivery.objects.filter(status="sent").count() == 2
    assert Delivery.objects.filter(invoice=invoices[1], status="failed").count() == 2


def test_one_invoice_failing_to_publish_does_not_stop_the_chunk(monkeypatch):
    invoices = three_invoices()
    for invoice in invoices:
        ContactFactory(customer=invoice.customer, email=f"ap{invoice.pk}@kunde.example")
    monkeypatch.setattr(billing.pdf, "invoices_render_pdfs", lambda invoices: {})  # all rendered alone
    render = billing.pdf.invoice_render_pdf

    def failing_for_the_first(invoice):
        if invoice.pk == invoices[0].pk:
            raise OSError("storage hiccup")
        return render(invoice)

    monkeypatch.setattr(billing.pdf, "invoice_render_pdf", failing_for_the_first)
    with pytest.raises(OSError, match="storage hiccup"):
        invoices_publish_task(invoice_ids=[i.pk for i in invoices])
    assert set(Invoice.objects.exclude(pdf_sha256="").values_list("pk", flat=True)) == {invoices[1].pk, invoices[2].pk}
    assert len(mail.outbox) == 2


def test_document_tasks_go_to_the_documents_queue():
    from otc.celery import app

    for name in ("billing.invoices_publish", "billing.invoice_publish", "billing.invoice_store_pdf",
                 "billing.invoice_deliver", "billing.credit_note_publish", "billing.invoice_void_publish"):
        assert app.amqp.router.route({}, name)["queue"].name == "documents", name
    assert app.amqp.router.route({}, "billing.run_issue_chunk")["queue"].name == "celery"


def test_the_fast_parser_gives_the_pdf_tinyhtml5_gives_and_falls_back_on_what_is_not_xml(monkeypatch):
    """WeasyPrint (credit notes; the invoices' reference rendering): our templates are
    well-formed XML and are parsed by expat; the PDF says exactly what the
    HTML5 parser's tree gave. Text that is not XML (a control character in a customer's name)
    falls back to the HTML5 parser and still renders."""
    from xml.etree import ElementTree

    invoices = three_invoices()
    fast = [pages_text(invoice_render_pdf_weasyprint(invoice)) for invoice in invoices]

    def not_xml(text):
        raise ElementTree.ParseError("not XML")

    monkeypatch.setattr(ElementTree, "fromstring", not_xml)
    assert [pages_text(invoice_render_pdf_weasyprint(invoice)) for invoice in invoices] == fast
    monkeypatch.undo()
    # the seller's ids: the label on its own line, then the id (a <br/>), not run together
    assert "VAT ID DE136695976" in fast[0][0][0]

    odd = issued(de_entity(), customer=CustomerFactory(country="DE", legal_name="Odd\x0bName GmbH"))
    assert odd.number in pages_text(invoice_render_pdf_weasyprint(odd))[0][0]  # rendered, by the HTML5 parser
