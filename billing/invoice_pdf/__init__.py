"""Invoice and credit-note PDFs drawn with ReportLab's canvas (decision 0021).

The same invoice as `billing/pdf/invoice.html` + `document.css` (WeasyPrint): the same context
(`billing.pdf.invoice_pdf_context`, the one source of values and their formatting), the same
texts, sections and order, the same A4 page, margins, fonts (DejaVu Sans and DejaVu Sans Bold,
vendored in `billing/fonts/`), sizes, colours and line heights, laid out by hand: the renderer
only measures and draws. A credit note (`render_credit_note`) is drawn by the same sections,
as `billing/pdf/credit_note.html` lays them out. About a seventh of WeasyPrint's CPU per invoice
(decision 0021's figures): no HTML, no style cascade, no box tree, a few hundred drawing operations.

Layout: the CSS box model of the template, in points (1 mm = 72/25.4 pt), y measured down from
the top of the page and turned into PDF coordinates when drawn. Text lines are 1.4 times the
font size (`line-height: 1.4`), the baseline 1.046 times the font size below the line's top
(DejaVu Sans: ascent 0.928, descent 0.236 of the em, half the leading above). Words wrap at
spaces (as the browser's `white-space: normal`); a word wider than its column overflows, as it
does in WeasyPrint. The lines table flows over pages with its header row repeated; the summary,
the legal notes and the payment instructions are each kept on one page
(`page-break-inside: avoid`); every page has the seller footer and "Page n of m".

`page` holds the page (sizes, fonts, measuring, wrapping, the drawing operations, writing the
PDF), `documents` the sections and the two documents.

Deterministic: the same context gives the same bytes (ReportLab's invariant mode, the creation
date set to the invoice's issue date, no random subset names).
"""

from billing.invoice_pdf.documents import credit_note_layout, layout, render_credit_note, render_invoice

__all__ = ["credit_note_layout", "layout", "render_credit_note", "render_invoice"]
