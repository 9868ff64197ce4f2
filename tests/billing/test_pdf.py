"""Invoice PDFs: the text a customer reads, and the stored bytes never change after issue; the
ReportLab renderer's pages, scripts, determinism, and parity with the WeasyPrint reference."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing.models import Invoice
from billing.pdf import invoice_render_pdf, invoice_render_pdf_weasyprint, invoice_store_pdf
from tests.factories.billing import (
    ART226_LINES,
    credit_whole,
    de_entity,
    draft,
    issued,
    reverse_charge_and_exempt_customers,
    text_of,
    us_entity,
)
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_pdf_carries_the_eu_vat_invoice_fields_and_reverse_charge_note():
    entity = de_entity()
    customer = CustomerFactory(country="FR", legal_name="Client Industrie SARL", tax_id="FR40303265045",
                               address_line1="12 rue de la Paix", city="Paris", postal_code="75002")
    inv = issued(entity, customer=customer, po_number="PO-4711", lines=[
        {"description": "Platform subscription", "quantity": D("1"), "unit_price": D("1000.00"),
         "tax_category": "digital", "unit": "MON"},
        {"description": "Implementation days", "quantity": D("2.5"), "unit_price": D("800.00"),
         "discount_percent": D("10"), "tax_category": "services", "unit": "DAY"},
    ])
    text = text_of(invoice_render_pdf(inv))
    for expected in [
        "otc DE01 GmbH", "Friedrichstrasse 10", "DE136695976", "HRB 123456 B",       # seller, VAT id, register
        "Client Industrie SARL", "12 rue de la Paix", "75002 Paris", "France", "FR40303265045",  # customer
        "DE01-INV-2026-000001", "2026-03-31", "2026-04-30", "2026-03-01 – 2026-03-31", "PO-4711",
        "Platform subscription", "Implementation days", "2.5", "800.00", "10%", "1,800.00", "1,000.00",
        "0%", "2,800.00 EUR", "Total due",
        "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)",
        "DE89370400440532013000", "COBADEFFXXX", "quote the invoice number DE01-INV-2026-000001",
    ]:
        assert expected in text, expected


def test_pdf_domestic_tax_summary_per_rate_and_exemption_reference():
    entity = de_entity()
    inv = issued(entity, lines=[
        {"description": "Subscription", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "digital"},
        {"description": "Printed handbook", "quantity": D("1"), "unit_price": D("50.00"), "tax_category": "reduced"},
    ])
    text = text_of(invoice_render_pdf(inv))
    assert "19% German VAT standard rate (digital) 100.00 EUR 19.00 EUR" in text
    assert "7% German VAT reduced rate 50.00 EUR 3.50 EUR" in text
    assert "172.50 EUR" in text
    exempt = CustomerFactory(country="DE", legal_name="Stiftung Bildung", tax_exempt=True,
                             tax_exemption_reference="FA Berlin 27/640/12345")
    text = text_of(invoice_render_pdf(issued(entity, customer=exempt)))
    assert "Tax exemption reference: FA Berlin 27/640/12345" in text and "1,000.00 EUR" in text


def test_draft_pdf_is_marked_draft():
    text = text_of(invoice_render_pdf(draft(de_entity())))
    assert "DRAFT" in text and "(assigned at issue)" in text


def test_stored_pdf_hash_matches_and_never_changes(settings, tmp_path):
    inv = issued(de_entity())
    stored = invoice_store_pdf(invoice_id=inv.pk)
    content = stored.pdf.read()
    stored.pdf.close()
    assert stored.pdf_sha256 == hashlib.sha256(content).hexdigest()
    assert "DE01-INV-2026-000001" in text_of(content)
    # a later template change (here: a different template directory) never alters the stored PDF
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    again = invoice_store_pdf(invoice_id=inv.pk)
    assert (again.pdf.name, again.pdf_sha256) == (stored.pdf.name, stored.pdf_sha256)
    with again.pdf.open("rb") as handle:
        assert handle.read() == content


def test_a_draft_pdf_is_never_stored():
    from otc.errors import InvalidTransition

    inv = draft(de_entity())
    with pytest.raises(InvalidTransition):
        invoice_store_pdf(invoice_id=inv.pk)


# --- the ReportLab renderer (decision 0021) ------------------------------------------------------

def pages_of(content: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(content)).pages]


def test_a_120_line_invoice_flows_over_pages_with_every_line_repeated_headers_and_page_n_of_m():
    lines = [{"description": f"Usage block {n:03d} for the data centre in Frankfurt, metered per hour of use",
              "quantity": D("1"), "unit_price": D(f"{10 + n}.00"), "tax_category": "digital"} for n in range(120)]
    inv = issued(de_entity(), lines=lines)
    pages = pages_of(invoice_render_pdf(inv))
    assert len(pages) >= 3
    assert [page.rsplit("Page ", 1)[1] for page in pages] == [f"{n} of {len(pages)}" for n in range(1, len(pages) + 1)]
    text = " ".join(pages)
    for n in range(120):  # every line, once, its description wrapped over lines and its amount
        assert text.count(f"Usage block {n:03d} for the data centre in Frankfurt, metered per hour of use") == 1, n
        assert f"{10 + n}.00" in text
    for page in pages:  # the table's header on every page, the seller's footer too
        assert "# Description Quantity Unit Unit price Discount Net amount VAT rate" in page
        assert "otc DE01 GmbH · Registration HRB 123456 B · VAT id DE136695976" in page
    # the totals, notes and payment instructions after the last line, on the last page
    last = pages[-1]
    assert last.index("Usage block 119") < last.index("Total due") < last.index("PAYMENT INSTRUCTIONS")
    assert f"quote the invoice number {inv.number}" in last


def test_non_latin_names_and_descriptions_survive_in_the_pdf_text():
    customer = CustomerFactory(country="GR", legal_name="Ελληνικά Συστήματα Α.Ε.", address_line1="Οδός Αθηνάς 12",
                               city="Αθήνα", postal_code="105 51")
    inv = issued(de_entity(), customer=customer, lines=[
        {"description": "Подписка на платформу (Москва) – Ñandú Gödel Straße", "quantity": D("1"),
         "unit_price": D("100.00"), "tax_category": "digital"}])
    text = text_of(invoice_render_pdf(inv))
    for expected in ["Ελληνικά Συστήματα Α.Ε.", "Οδός Αθηνάς 12", "105 51 Αθήνα",
                     "Подписка на платформу (Москва) – Ñandú Gödel Straße"]:
        assert expected in text, expected
    odd = issued(de_entity(), customer=CustomerFactory(country="DE", legal_name="Odd\x0bName GmbH"))
    assert odd.number in text_of(invoice_render_pdf(odd))  # a control character does not stop it


def test_the_same_invoice_gives_the_same_bytes_and_its_issue_date_as_the_pdf_date():
    inv = issued(de_entity())
    first = invoice_render_pdf(inv)
    assert invoice_render_pdf(Invoice.objects.get(pk=inv.pk)) == first
    stored = invoice_store_pdf(invoice_id=inv.pk)
    assert stored.pdf_sha256 == hashlib.sha256(first).hexdigest()  # re-rendered on demand: the same SHA-256
    metadata = PdfReader(io.BytesIO(first)).metadata
    assert metadata.title == f"Invoice {inv.number}" and metadata.author == "otc DE01 GmbH"
    assert metadata["/CreationDate"].startswith("D:20260331")


def test_every_text_of_the_weasyprint_pdf_is_in_the_reportlab_pdf():
    """billing/pdf/invoice.html (WeasyPrint) is the reference: the drawn invoice says everything
    it says (compared character by character, whatever the order text is extracted in)."""
    entity = de_entity()
    fr, exempt = reverse_charge_and_exempt_customers()
    invoices = [
        issued(entity, customer=fr, po_number="PO-4711", lines=[
            {"description": "Implementation days " * 8, "quantity": D("2.5"), "unit_price": D("800.00"),
             "discount_percent": D("10"), "tax_category": "services", "unit": "DAY"}]),
        issued(entity, customer=exempt),
        draft(entity),
        issued(us_entity(), customer=CustomerFactory(country="US", legal_name="Acme Corp.", city="Austin",
                                                     region="TX", postal_code="78701"), currency="USD"),
    ]
    for inv in invoices:
        old = "".join(text_of(invoice_render_pdf_weasyprint(inv)).split())
        new = "".join(text_of(invoice_render_pdf(inv)).split())
        assert Counter(old) - Counter(new) == Counter(), inv.number


def test_a_credit_note_is_drawn_with_every_text_of_its_weasyprint_pdf():
    from billing.services.credit_notes import credit_note_render_pdf, credit_note_render_pdf_weasyprint

    fr = CustomerFactory(country="FR", legal_name="Client Industrie SARL", tax_id="FR40303265045")
    note = credit_whole(issued(de_entity(), customer=fr, lines=ART226_LINES, po_number="PO-77"))
    content = credit_note_render_pdf(note)
    assert credit_note_render_pdf(note) == content  # the same bytes again
    pages = pages_of(content)
    assert len(pages) == 1 and pages[0].endswith("Page 1 of 1")
    assert PdfReader(io.BytesIO(content)).metadata.title == f"Credit note {note.number}"
    for expected in [f"Credited invoice {note.invoice.number} of 2026-03-31", "Reason Billing error",
                     "Total credited", "Billed to the wrong contract", "VAT credited",
                     f"This credit note reduces the balance of invoice {note.invoice.number}"]:
        assert expected in pages[0], expected
    old = "".join(text_of(credit_note_render_pdf_weasyprint(note)).split())
    assert Counter(old) - Counter("".join(pages[0].split())) == Counter()


def test_invoices_drawn_from_threads_at_once_are_each_the_invoice_alone():
    """ReportLab's fonts keep their subset state per document: the threaded development server's
    concurrent downloads do not mix glyphs of two documents (decision 0021)."""
    from concurrent.futures import ThreadPoolExecutor

    from billing.invoice_pdf import render_invoice
    from billing.pdf import invoice_pdf_context

    invoices = [issued(de_entity(), customer=CustomerFactory(country="DE", legal_name=name), lines=[
        {"description": text, "quantity": D("1"), "unit_price": D("10.00"), "tax_category": "digital"}])
        for name, text in [("Ångström Ölwerke GmbH", "Ünïcödé ẞ"), ("Ελληνικά Α.Ε.", "Συνδρομή"),
                           ("Москва ООО", "Подписка"), ("Plain Ltd", "Plain words")]]
    contexts = [invoice_pdf_context(inv) for inv in invoices]
    alone = [render_invoice(ctx, title=f"Invoice {inv.number}") for ctx, inv in zip(contexts, invoices, strict=True)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        rounds = [list(pool.map(lambda pair: render_invoice(pair[0], title=f"Invoice {pair[1].number}"),
                                zip(contexts, invoices, strict=True))) for _ in range(5)]
    for together in rounds:
        assert together == alone


def test_documents_saved_at_once_make_their_font_subsets_one_at_a_time(monkeypatch):
    """A font's file is read through one cursor per process (ReportLab's `TTFontFile`): two
    subsets made at once read through each other's seeks (a KeyError, or a wrong glyph, about one
    run in three of the test above under load). Each subset waits a moment here, so that without
    the lock two threads' would overlap every time."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from reportlab.pdfbase.ttfonts import TTFontFile

    from billing.invoice_pdf import render_invoice
    from billing.pdf import invoice_pdf_context

    invoices = [issued(de_entity(), customer=CustomerFactory(country="DE", legal_name=name)) for name in
                ("Ångström Ölwerke GmbH", "Ελληνικά Α.Ε.", "Москва ООО")]
    contexts = [invoice_pdf_context(inv) for inv in invoices]
    making, most, guard = [0], [0], threading.Lock()
    original = TTFontFile.makeSubset

    def make_subset(self, *args, **kwargs):
        with guard:
            making[0] += 1
            most[0] = max(most[0], making[0])
        time.sleep(0.02)
        try:
            return original(self, *args, **kwargs)
        finally:
            with guard:
                making[0] -= 1

    monkeypatch.setattr(TTFontFile, "makeSubset", make_subset)
    with ThreadPoolExecutor(max_workers=3) as pool:
        pdfs = list(pool.map(lambda ctx: render_invoice(ctx, title="Invoice"), contexts))
    assert all(pdf.startswith(b"%PDF") for pdf in pdfs)
    assert most[0] == 1


def _text_boxes(page_operations):
    """Each drawn line of text as (left, top, right, bottom, text) in points from the page's
    top-left corner: its width measured with its font, its height the font size."""
    from billing.invoice_pdf.page import BASELINE, text_width

    boxes = []
    for op in page_operations:
        if op[0] != "t":
            continue
        _, x, baseline, text, font, size, _color, align, spacing = op
        width = text_width(text, font, size, spacing)
        left = x - width if align == "right" else x
        top = baseline - BASELINE * size
        boxes.append((left, top, left + width, top + size, text))
    return boxes


def test_no_text_of_an_invoice_overlaps_other_text_or_leaves_the_page():
    """The look, not only the text: WeasyPrint's layout drew the parties over the lines table
    while every text test passed. Long names, long unbroken codes, big amounts, many lines."""
    from billing.invoice_pdf import layout
    from billing.invoice_pdf.page import LEFT, PAGE_W, RIGHT
    from billing.pdf import invoice_pdf_context

    customer = CustomerFactory(
        country="DE", legal_name="Internationale Versicherungs- und Rückversicherungsgesellschaft für "
        "Industrieanlagen und Logistikzentren Aktiengesellschaft",
        address_line1="Hauptverwaltung, Abteilung Kreditorenbuchhaltung, Gebäude C, 4. Obergeschoss, Raum 4711",
        address_line2="Postfach-Sammelstelle-Rechnungseingang-ZENTRAL-0123456789", city="Frankfurt am Main")
    lines = [{"description": "SKU-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789",
              "quantity": D("12345.5"), "unit_price": D("987654.10"), "discount_percent": D("12.5"),
              "tax_category": "digital", "unit": "HUR"}]
    lines += [{"description": f"Usage block {n:03d} metered per hour of use", "quantity": D("1"),
               "unit_price": D("10.00"), "tax_category": "digital"} for n in range(40)]
    entity = de_entity(legal_name="otc Deutschland Forderungsmanagement und Fakturierungsdienste GmbH & Co. KGaA",
                       address_line1="Friedrichstrasse 10, Quartier 205, Aufgang B, 5. Etage, Empfang Buchhaltung")
    inv = issued(entity, customer=customer, lines=lines, po_number="PO-2026-LONG-REFERENCE-0000000000042")
    for page in layout(invoice_pdf_context(inv)):
        boxes = _text_boxes(page)
        for left, top, right, _bottom, text in boxes:
            assert left >= LEFT - 0.5 and right <= RIGHT + 0.5, f"{text!r} leaves the content width ({left:.1f}-{right:.1f})"
            assert top >= 0 and right <= PAGE_W
        for n, (l1, t1, r1, b1, text1) in enumerate(boxes):
            for l2, t2, r2, b2, text2 in boxes[n + 1:]:
                overlaps = l1 < r2 - 0.5 and l2 < r1 - 0.5 and t1 < b2 - 0.5 and t2 < b1 - 0.5
                assert not overlaps, f"{text1!r} overlaps {text2!r}"
