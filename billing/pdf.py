"""Invoice PDFs: drawn with ReportLab (`billing.invoice_pdf`, decision 0021) from the context
`invoice_pdf_context` gives, as are credit notes (billing.services.credit_notes); the VOID stamp
is rendered from its HTML template by WeasyPrint, and `DocumentRenderer` (WeasyPrint) renders the
invoice and credit-note templates only as the reference the drawn documents are compared with.

A void invoice is served as its VOID copy: the issued PDF's exact bytes (checked against their
SHA-256) with a VOID watermark and a banner stamped over every page, stored once with its own
SHA-256 (`invoice_store_void_pdf`). The issued bytes themselves never change.

`invoice_render_pdf` renders from the invoice's issue-time snapshots (seller, bill_to), so a later
change to the customer or the entity never changes what the invoice says. `invoice_store_pdf`
stores the bytes and their SHA-256 once, after issue; later template changes never alter an
issued invoice's stored PDF.
"""

from __future__ import annotations

import gc
import hashlib
import io
import logging
from collections import defaultdict
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import get_template, render_to_string
from django.utils import timezone

from billing.models import Invoice
from billing.services.invoices import lock_invoices
from billing.snapshots import bill_to_snapshot, seller_snapshot
from billing.tax import invoice_legal_notes
from billing.wording import bank_rows, postal_address, tax_label
from contracts.models import Product
from otc import dates
from otc.errors import InvalidTransition, ValidationFailed
from otc.history import history_stamp
from otc.money import ZERO, format_amount, quantize

UNIT_LABELS = dict(Product.Unit.choices)
logger = logging.getLogger(__name__)


def _rate(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return f"{text}%"


def tax_summary_rows(lines: list[Any], currency: str) -> list[dict[str, Any]]:
    """The taxable amount and the tax per rate and category (art. 226 (8) and (10)), highest rate
    first. `lines`: rows with tax_rate, tax_code (name, ubl_category), net_amount, tax_amount."""
    summary: dict[tuple[Decimal, str], dict[str, Any]] = defaultdict(lambda: {"net": ZERO, "tax": ZERO})
    for line in lines:
        row = summary[(line.tax_rate, line.tax_code.ubl_category)]
        row["name"] = line.tax_code.name
        row["net"] += line.net_amount
        row["tax"] += line.tax_amount
    return [
        {"rate": _rate(rate), "name": row["name"], "category": category,
         "net": format_amount(row["net"], currency), "tax": format_amount(row["tax"], currency)}
        for (rate, category), row in sorted(summary.items(), key=lambda kv: (-kv[0][0], kv[0][1]))
    ]


def price_text(price: Decimal, currency: str) -> str:
    """A unit price as printed: the currency's decimals when it has no more, else all it has."""
    return format_amount(price, currency) if price == quantize(price, currency) else f"{price.normalize():f}"


def invoice_pdf_context(invoice: Invoice) -> dict[str, Any]:
    cur = invoice.currency
    seller = invoice.seller or seller_snapshot(invoice.legal_entity)
    bill_to = invoice.bill_to or bill_to_snapshot(invoice.customer)
    lines = list(invoice.lines.select_related("tax_code").order_by("position"))
    tax_summary = tax_summary_rows(lines, cur)
    reverse_charge = any(line.tax_code.kind == "reverse_charge" for line in lines)
    notes = invoice_legal_notes(
        tax_codes=[line.tax_code for line in lines], customer_exempt=bool(bill_to.get("tax_exempt")),
        exemption_reference=bill_to.get("tax_exemption_reference", ""),
    )
    return {
        "invoice": invoice, "currency": cur, "seller": seller, "seller_address": postal_address(seller),
        "bill_to": bill_to, "bill_to_address": postal_address(bill_to), "reverse_charge": reverse_charge,
        "tax_label": tax_label(seller.get("country", "")), "customer_tax_label": tax_label(bill_to.get("country", "")),
        "bank_rows": bank_rows(seller, seller.get("country", "")),
        # The stored PDF is the invoice as issued; a void invoice is served as its stamped VOID copy.
        "is_draft": invoice.status == Invoice.Status.DRAFT,
        "lines": [{
            "line": line, "quantity": f"{line.quantity.normalize():f}", "unit": UNIT_LABELS.get(line.unit, line.unit),
            "unit_price": price_text(line.unit_price, cur),
            "discount": _rate(line.discount_percent) if line.discount_percent else "",
            "net": format_amount(line.net_amount, cur), "tax_rate": _rate(line.tax_rate),
        } for line in lines],
        "tax_summary": tax_summary, "legal_notes": notes,
        "net_total": format_amount(invoice.net_total, cur), "tax_total": format_amount(invoice.tax_total, cur),
        "gross_total": format_amount(invoice.gross_total, cur),
    }


class DocumentRenderer:
    """What every PDF of a worker shares, built once per process (`renderer()`): the compiled
    templates, the parsed stylesheet and its font configuration (fontconfig and the fonts'
    metrics: DejaVu Sans, installed locally, never fetched), and WeasyPrint's image cache (a
    logo or any image is decoded once, not per document).

    Profiled on a 20-line-or-less invoice (cProfile, `bench/billing_run.py --pdfs`): before,
    each document parsed the stylesheet inlined in its HTML, compiled its template when the
    cached loader was off, and spent 40% of its time in flexbox layout re-measuring the tables
    nested in the flex rows; the stylesheet now lays out with floats and fixed table layouts."""

    STYLESHEET = "billing/pdf/document.css"
    USER_AGENT = "billing/pdf/user_agent.css"  # instead of WeasyPrint's HTML5 one: only the elements we use

    def __init__(self) -> None:
        import cssselect2
        from weasyprint import CSS, HTML, _find_base_url
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher

        self.fonts = FontConfiguration()
        self.stylesheet = CSS(string=render_to_string(self.STYLESHEET), font_config=self.fonts)
        user_agent = [CSS(string=render_to_string(self.USER_AGENT), font_config=self.fonts)]
        self.templates: dict[str, Any] = {}
        self.cache: dict[str, Any] = {}

        class DocumentHTML(HTML):
            """HTML parsed by expat (C) when it is well-formed XML, as our templates write it
            (`<br/>`, autoescaped text): the same element tree as tinyhtml5's in about 0.2 ms
            per invoice instead of 6-7 ms of pure-Python HTML5 parsing. Anything else (a stray
            control character in customer data, an HTML-only entity) falls back to tinyhtml5."""

            def __init__(self, string: str) -> None:
                try:
                    root = ElementTree.fromstring(string)
                except ElementTree.ParseError:
                    super().__init__(string=string)
                    return
                self.base_url = _find_base_url(root, None)
                self.url_fetcher = URLFetcher()
                self.media_type = "print"
                self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
                self.etree_element = self.wrapper_element.etree_element

            def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
                return user_agent

        self.html = DocumentHTML

    def template(self, name: str) -> Any:
        compiled = self.templates.get(name)
        if compiled is None:
            compiled = self.templates[name] = get_template(name)
        return compiled

    def render(self, template: str, context: dict[str, Any]) -> bytes:
        return self.html(string=self.template(template).render(context)).write_pdf(
            stylesheets=[self.stylesheet], font_config=self.fonts, cache=self.cache)


_renderer: DocumentRenderer | None = None


def renderer() -> DocumentRenderer:
    """This process's renderer (built on first use; a Celery worker keeps it for its life)."""
    global _renderer
    if _renderer is None:
        _renderer = DocumentRenderer()
        # What the process holds for life (Django, WeasyPrint, the fonts and stylesheets just
        # loaded) leaves the cyclic collector's scans: its time per PDF about halves (measured
        # with gc.callbacks: 8-12 -> 4-6 ms per PDF under load). Nothing is leaked by it.
        gc.freeze()
    return _renderer


def invoice_pdf_title(invoice: Invoice) -> str:
    return f"Invoice {invoice.number or 'draft'}"


def invoice_render_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes (A4), drawn with ReportLab (`billing.invoice_pdf`, decision 0021):
    the same bytes for the same invoice, however and whenever it is rendered."""
    from billing.invoice_pdf import render_invoice

    return render_invoice(invoice_pdf_context(invoice), title=invoice_pdf_title(invoice))


BATCH_SIZE = 25  # invoices a documents task renders, stores and delivers at a time


def invoices_render_pdfs(invoices: list[Invoice]) -> dict[int, bytes]:
    """The PDFs of several invoices (a documents task's chunk): {invoice id: PDF bytes}, each the
    bytes `invoice_render_pdf` gives it alone (any number of pages).

    An invoice missing from the result (its context or its PDF failed) is left to be rendered
    alone by `invoice_store_pdf`, where its error is raised: one bad invoice never stops the
    others."""
    from billing.invoice_pdf import render_invoice

    pdfs: dict[int, bytes] = {}
    for invoice in invoices:
        try:
            pdfs[invoice.pk] = render_invoice(invoice_pdf_context(invoice), title=invoice_pdf_title(invoice))
        except Exception:  # noqa: BLE001 - rendered alone later, where its error is raised
            logger.exception("Invoice %s left out of its PDF batch; it is rendered alone.", invoice.pk)
    return pdfs


# --- the WeasyPrint rendering of invoices: the reference, not used by any document path ----------
# `billing/pdf/invoice.html` is the look `billing.invoice_pdf` draws; these render it with
# WeasyPrint for the tests that compare the two PDFs' text and for the benchmark's baseline
# (bench/billing_run.py --pdfs). Decision 0021.

def invoice_render_pdf_weasyprint(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes (A4) rendered from the HTML template by WeasyPrint."""
    return renderer().render("billing/pdf/invoice.html", invoice_pdf_context(invoice))


def store_document_file(document, *, file_field: str, sha_field: str, name: str, content: bytes,
                        change_reason: str | None = None) -> None:
    """Write a rendered document's file and its SHA-256 on `document` (a row the caller has locked
    in its transaction). If writing the row fails, the file just written is removed again, so a
    refused save leaves no orphan file behind."""
    field = getattr(document, file_field)
    field.save(name, ContentFile(content), save=False)
    setattr(document, sha_field, hashlib.sha256(content).hexdigest())
    if change_reason is not None:
        history_stamp(document, reason=change_reason, at=dates.now())
    update_fields = [file_field, sha_field] + (["updated_at"] if hasattr(document, "updated_at") else [])
    try:
        document.save(update_fields=update_fields)
    except BaseException:
        field.storage.delete(field.name)
        raise


def _storable(invoice: Invoice | None, invoice_id: int) -> Invoice:
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    if invoice.status == Invoice.Status.DRAFT:
        raise InvalidTransition(f"Draft invoice #{invoice.pk} has no number yet; issue it before storing its PDF.")
    return invoice


def invoice_store_pdf(*, invoice_id: int, content: bytes | None = None) -> Invoice:
    """Render and store an issued invoice's PDF and SHA-256 once (task-safe, idempotent: a stored
    PDF is never re-rendered, so a later template change never alters an issued invoice).
    `content`: the PDF already rendered in a batch (`invoices_render_pdfs`), stored as it is.

    The rendering (the slow part) runs before any lock is taken; the invoice row is locked only
    for the moment of storing. Two workers rendering the same invoice at once both render, and
    the first to store wins: the second finds the SHA-256 set under the lock and stores nothing.
    With `content` (a documents task's batch) the row is read once, under the lock."""
    if content is None:
        invoice = _storable(Invoice.objects.select_related("legal_entity", "customer").filter(pk=invoice_id).first(),
                            invoice_id)
        if invoice.pdf_sha256:
            return invoice
        content = invoice_render_pdf(invoice)  # no lock held: payments and voids go on meanwhile
    with transaction.atomic():
        invoice = _storable(lock_invoices([invoice_id]).select_related("legal_entity", "customer").first(), invoice_id)
        if invoice.pdf_sha256:  # stored already, or by another worker while this one rendered
            return invoice
        store_document_file(invoice, file_field="pdf", sha_field="pdf_sha256", name=f"{invoice.number}.pdf",
                            content=content, change_reason="PDF stored")
    return invoice


# --- void copies ---------------------------------------------------------------------------------

def stamp_void(content: bytes, *, invoice: Invoice) -> bytes:
    """`content` (the issued PDF) with the VOID watermark and banner merged onto every page."""
    from pypdf import PdfReader, PdfWriter
    from weasyprint import HTML

    credit_note = invoice.void_credit_note if invoice.void_credit_note_id else None
    voided_on = timezone.localtime(invoice.voided_at).date() if invoice.voided_at else None
    stamp_html = render_to_string("billing/pdf/void_stamp.html",
                                  {"invoice": invoice, "credit_note": credit_note, "voided_on": voided_on})
    stamp = PdfReader(io.BytesIO(HTML(string=stamp_html).write_pdf())).pages[0]
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(content)))
    for page in writer.pages:
        page.merge_page(stamp, over=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def invoice_store_void_pdf(*, invoice_id: int) -> Invoice:
    """Store a void invoice's VOID copy once (idempotent): the issued PDF (stored first if it was
    not yet, and verified against its SHA-256) stamped VOID, with its own SHA-256. Stamped before
    the row is locked; locked only to store (the first to store wins, as in `invoice_store_pdf`)."""
    from billing.integrity import verified_pdf

    invoice = Invoice.objects.select_related("legal_entity", "customer", "void_credit_note").filter(pk=invoice_id).first()
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    if invoice.void_pdf_sha256:
        return invoice
    if invoice.status != Invoice.Status.VOID:
        raise InvalidTransition(f"Invoice {invoice} is not void; only a void invoice has a VOID copy.")
    if not invoice.pdf_sha256:
        invoice_store_pdf(invoice_id=invoice.pk)
        invoice = Invoice.objects.select_related("legal_entity", "customer", "void_credit_note").get(pk=invoice_id)
    content = stamp_void(verified_pdf(invoice), invoice=invoice)
    with transaction.atomic():
        invoice = lock_invoices([invoice_id]).select_related("legal_entity", "customer", "void_credit_note").first()
        if invoice.void_pdf_sha256:
            return invoice
        store_document_file(invoice, file_field="void_pdf", sha_field="void_pdf_sha256",
                            name=f"{invoice.number}-VOID.pdf", content=content, change_reason="VOID copy stored")
    return invoice


def invoice_pdf_download(*, invoice_id: int) -> tuple[bytes, str]:
    """(bytes, file name) of what a download serves: the issued PDF, or for a void invoice its
    VOID copy; rendered and stored first when missing; always checked against the stored SHA-256
    (billing.integrity.DocumentIntegrityError when they differ: never served)."""
    from billing.integrity import verified_pdf

    invoice = Invoice.objects.get(pk=invoice_id)
    if invoice.status == Invoice.Status.DRAFT:
        raise InvalidTransition(f"Draft invoice #{invoice.pk} is not issued yet: it has no PDF.")
    if invoice.status == Invoice.Status.VOID:
        if not invoice.void_pdf_sha256:
            invoice = invoice_store_void_pdf(invoice_id=invoice.pk)
        return verified_pdf(invoice, file_field="void_pdf", sha_field="void_pdf_sha256"), f"{invoice.number}-VOID.pdf"
    if not invoice.pdf_sha256:
        invoice = invoice_store_pdf(invoice_id=invoice.pk)
    return verified_pdf(invoice), f"{invoice.number}.pdf"
