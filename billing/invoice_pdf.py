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

Deterministic: the same context gives the same bytes (ReportLab's invariant mode, the creation
date set to the invoice's issue date, no random subset names).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONTS = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM  # A4
BODY_MARGIN = 6.0  # the user-agent stylesheet's `body { margin: 8px }`
LEFT = 16 * MM + BODY_MARGIN
RIGHT = PAGE_W - 16 * MM - BODY_MARGIN
WIDTH = RIGHT - LEFT
PAGE_TOP = 18 * MM  # where a continuation page's content starts (from the top)
FIRST_TOP = PAGE_TOP + BODY_MARGIN
BOTTOM = PAGE_H - 22 * MM  # content ends above the footer margin

LINE = 1.4  # line-height
BASELINE = 1.046  # baseline below a line's top, per point of font size

TEXT = (0x1F / 255, 0x29 / 255, 0x37 / 255)  # #1f2937
BLUE = (0x1E / 255, 0x3A / 255, 0x8A / 255)  # #1e3a8a
GREY = (0x6B / 255, 0x72 / 255, 0x80 / 255)  # #6b7280
TITLE = (0x11 / 255, 0x18 / 255, 0x27 / 255)  # #111827
RED = (0xB9 / 255, 0x1C / 255, 0x1C / 255)  # #b91c1c
WHITE = (1.0, 1.0, 1.0)
RULE = (0xE5 / 255, 0xE7 / 255, 0xEB / 255)  # #e5e7eb
RULE_DARK = (0x9C / 255, 0xA3 / 255, 0xAF / 255)  # #9ca3af
NOTE_BG = (0xF3 / 255, 0xF4 / 255, 0xF6 / 255)  # #f3f4f6

BODY = 8.5  # font sizes (pt)
LABEL = 6.5  # .label: uppercase, letter-spacing 0.6pt, grey
LABEL_SPACING = 0.6

# table.lines: the columns' widths (fractions of the content width), right-aligned columns
LINE_COLUMNS = (0.05, 0.34, 0.09, 0.10, 0.11, 0.09, 0.13, 0.09)
LINE_NUMERIC = (False, False, True, False, True, True, True, True)
TAX_COLUMNS = (0.16, 0.28, 0.28, 0.28)  # .tax-summary (56% of the width)
TAX_NUMERIC = (False, False, True, True)

_fonts_registered = False
# Content streams compressed only, not also ASCII85-encoded (a quarter smaller): PDFs are binary
# files here, never mailed as 7-bit text. (Process-wide; nothing else in otc uses ReportLab.)
rl_config.useA85 = 0


def _register_fonts() -> None:
    global _fonts_registered
    if not _fonts_registered:
        pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
        _fonts_registered = True


def _width(text: str, font: str, size: float, spacing: float = 0.0) -> float:
    return pdfmetrics.stringWidth(text, font, size) + spacing * len(text)


def wrap(text: str, font: str, size: float, width: float, spacing: float = 0.0) -> list[str]:
    """`text` in lines no wider than `width`, broken at white space (which collapses, as in HTML);
    a single word wider than `width` stays whole on its line. Always at least one line."""
    words = text.split()
    if not words:
        return [""]
    whole = " ".join(words)
    if _width(whole, font, size, spacing) <= width:
        return [whole]
    space = _width(" ", font, size, spacing)
    lines: list[str] = []
    current, current_width = words[0], _width(words[0], font, size, spacing)
    for word in words[1:]:
        word_width = _width(word, font, size, spacing)
        if current_width + space + word_width <= width:
            current, current_width = f"{current} {word}", current_width + space + word_width
        else:
            lines.append(current)
            current, current_width = word, word_width
    lines.append(current)
    return lines


class _Pages:
    """The laid-out pages: per page a list of drawing operations, drawn once the number of
    pages is known (the footer's "Page n of m")."""

    def __init__(self) -> None:
        self.pages: list[list[tuple[Any, ...]]] = [[]]
        self.y = FIRST_TOP  # the cursor: distance from the top of the page

    def new_page(self) -> None:
        self.pages.append([])
        self.y = PAGE_TOP

    @property
    def at_top(self) -> bool:
        return self.y <= FIRST_TOP if len(self.pages) == 1 else self.y <= PAGE_TOP

    def fits(self, height: float) -> bool:
        return self.y + height <= BOTTOM

    def keep_together(self, margin: float, height: float) -> None:
        """Room for a block of `height` after its top `margin`, else the block starts a new
        page (where its margin is dropped, as CSS truncates margins at a page break)."""
        if self.fits(margin + height) or self.at_top:
            self.y += margin
        else:
            self.new_page()

    def text(self, x: float, top: float, text: str, font: str = REGULAR, size: float = BODY,
             color: tuple[float, float, float] = TEXT, align: str = "left", spacing: float = 0.0) -> None:
        """One line of text whose line box starts `top` below the page's top edge."""
        if text:
            self.pages[-1].append(("t", x, top + BASELINE * size, text, font, size, color, align, spacing))

    def rect(self, x: float, top: float, width: float, height: float, color: tuple[float, float, float]) -> None:
        self.pages[-1].append(("r", x, top, width, height, color))

    def rule(self, x1: float, x2: float, y: float, thickness: float, color: tuple[float, float, float]) -> None:
        self.pages[-1].append(("l", x1, x2, y, thickness, color))


def _lines(pages: _Pages, x: float, top: float, lines: Sequence[str], font: str = REGULAR, size: float = BODY,
           color: tuple[float, float, float] = TEXT, align: str = "left", spacing: float = 0.0) -> float:
    """Draw wrapped lines from `top`; the height they take."""
    step = LINE * size
    for n, line in enumerate(lines):
        pages.text(x, top + n * step, line, font, size, color, align, spacing)
    return len(lines) * step


def _date(value: date | None, default: str = "") -> str:
    return value.isoformat() if value else default  # the templates' |date:"Y-m-d"|default:...


def _str(value: Any) -> str:
    return "" if value is None else str(value)


# --- the sections, in the template's order ---------------------------------------------------------

def _header(pages: _Pages, ctx: dict[str, Any]) -> None:
    seller = ctx["seller"]
    top = pages.y
    left_width, right_width = 0.62 * WIDTH, 0.36 * WIDTH
    y = top + _lines(pages, LEFT, top, wrap(_str(seller.get("legal_name")), BOLD, 15, left_width), BOLD, 15, BLUE)
    rows = list(ctx["seller_address"])
    if seller.get("email"):
        rows.append(seller["email"] + (f" · {seller['phone']}" if seller.get("phone") else ""))
    for row in rows:
        y += _lines(pages, LEFT, y, wrap(_str(row), REGULAR, BODY, left_width))
    # .seller-ids: right-aligned, 8pt; each id a grey label line, then the value
    ids = []
    if seller.get("tax_id"):
        ids.append((f"{ctx['tax_label']} id", seller["tax_id"]))
    if seller.get("registration_number"):
        ids.append(("Company registration", seller["registration_number"]))
    right_y = top
    for label, value in ids:
        pages.text(RIGHT, right_y + (BASELINE * 8 - BASELINE * LABEL), label.upper(), REGULAR, LABEL, GREY,
                   "right", LABEL_SPACING)
        right_y += LINE * 8
        right_y += _lines(pages, RIGHT, right_y, wrap(_str(value), REGULAR, 8, right_width), REGULAR, 8,
                          align="right")
    bottom = max(y, right_y) + 6 * MM  # padding-bottom: 6mm, then the 2px rule
    pages.rule(LEFT, RIGHT, bottom + 0.75, 1.5, BLUE)
    pages.y = bottom + 1.5


def _title(pages: _Pages, title: str, draft: bool) -> None:
    pages.y += 8 * MM
    pages.text(LEFT, pages.y, title, BOLD, 20, TITLE, spacing=0.5)
    if draft:
        x = LEFT + _width(f"{title} ", BOLD, 20, 0.5)
        # the 12pt span sits on the 20pt line's baseline
        pages.text(x, pages.y + BASELINE * 20 - BASELINE * 12, "DRAFT – not a valid invoice", BOLD, 12, RED,
                   spacing=0.5)
    pages.y += LINE * 20 + 2 * MM


def _key_value(pages: _Pages, x: float, top: float, width: float, label: str, value: str, font: str = REGULAR,
               size: float = BODY, value_font: str = BOLD) -> float:
    """A .kv row's text (label left, the value right on the last line, the label wrapping
    before it when both do not fit); the height of its lines."""
    value_width = _width(value, value_font, size)
    space = _width(" ", font, size)
    words = label.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if _width(candidate, font, size) <= width:
            current = candidate
        else:
            if current:
                lines.append(current)
            current = word
    if current and _width(current, font, size) + space + value_width > width:
        lines.append(current)
        current = ""
    lines.append(current)
    step = LINE * size
    for n, line in enumerate(lines):
        pages.text(x, top + n * step, line, font, size)
    pages.text(x + width, top + (len(lines) - 1) * step, value, value_font, size, align="right")
    return len(lines) * step


def _invoice_facts(ctx: dict[str, Any]) -> list[tuple[str, str]]:
    invoice = ctx["invoice"]
    facts = [
        ("Invoice number", invoice.number or "(assigned at issue)"),
        ("Date of issue", _date(invoice.issue_date, "–")),
        ("Due date", _date(invoice.due_date, "–")),
        ("Payment terms", f"{invoice.payment_terms_days} days net" if invoice.payment_terms_days else "Due on receipt"),
    ]
    if invoice.service_start:
        facts.append(("Date of supply / service period",
                      f"{_date(invoice.service_start)} – {_date(invoice.service_end)}"))
    if invoice.po_number:
        facts.append(("PO number", _str(invoice.po_number)))
    facts.append(("Currency", ctx["currency"]))
    return facts


def _parties(pages: _Pages, ctx: dict[str, Any], party: str, facts: list[tuple[str, str]]) -> None:
    """The customer (left, under the label `party`) and the document's facts (right)."""
    pages.y += 4 * MM
    top = pages.y
    bill_to = ctx["bill_to"]
    left_width = 0.55 * WIDTH
    y = top + _lines(pages, LEFT, top, [party.upper()], REGULAR, LABEL, GREY, spacing=LABEL_SPACING)
    y += _lines(pages, LEFT, y, wrap(_str(bill_to.get("legal_name")), BOLD, 10, left_width), BOLD, 10)
    rows = list(ctx["bill_to_address"])
    if bill_to.get("tax_id"):
        rows.append(f"Customer {ctx['customer_tax_label']} id: {bill_to['tax_id']}")
    if bill_to.get("account_number"):
        rows.append(f"Customer account: {bill_to['account_number']}")
    for row in rows:
        y += _lines(pages, LEFT, y, wrap(_str(row), REGULAR, BODY, left_width))

    meta_width = 0.40 * WIDTH
    right_y = top
    for label, value in facts:
        right_y += 0.6 * MM
        right_y += _key_value(pages, RIGHT - meta_width, right_y, meta_width, label, value)
        right_y += 0.6 * MM
    pages.y = max(y, right_y)


def _columns(fractions: Sequence[float], left: float, width: float) -> list[tuple[float, float]]:
    """(x, width) of each column."""
    columns, x = [], left
    for fraction in fractions:
        columns.append((x, fraction * width))
        x += fraction * width
    return columns


LINES_HEADER_SIZE = 7.5
CELL_PAD_X, CELL_PAD_Y = 1.5 * MM, 2 * MM


def _cell_x(column: tuple[float, float], numeric: bool, pad: float) -> tuple[float, str]:
    x, width = column
    return (x + width - pad, "right") if numeric else (x + pad, "left")


def _lines_header(pages: _Pages, titles: list[str], columns: list[tuple[float, float]],
                  numeric: Sequence[bool]) -> None:
    wrapped = [wrap(title, REGULAR, LINES_HEADER_SIZE, width - 2 * CELL_PAD_X) for title, (_, width) in
               zip(titles, columns, strict=True)]
    height = max(len(lines) for lines in wrapped) * LINE * LINES_HEADER_SIZE + 2 * CELL_PAD_Y
    pages.rect(LEFT, pages.y, WIDTH, height, BLUE)
    for lines, column, is_numeric in zip(wrapped, columns, numeric, strict=True):
        x, align = _cell_x(column, is_numeric, CELL_PAD_X)
        # header cells are vertically centred (thead's vertical-align: middle)
        offset = (height - 2 * CELL_PAD_Y - len(lines) * LINE * LINES_HEADER_SIZE) / 2
        _lines(pages, x, pages.y + CELL_PAD_Y + offset, lines, REGULAR, LINES_HEADER_SIZE, WHITE, align)
    pages.y += height


def _invoice_lines(ctx: dict[str, Any]) -> tuple[list[str], list[tuple[list[str], date | None, date | None]]]:
    """The lines table's titles, and per line its cells (the description second) and service period."""
    titles = ["#", "Description", "Quantity", "Unit", "Unit price", "Discount", "Net amount", f"{ctx['tax_label']} rate"]
    rows = []
    for row in ctx["lines"]:
        line = row["line"]
        rows.append(([_str(line.position), _str(line.description), row["quantity"], row["unit"], row["unit_price"],
                      row["discount"] or "–", row["net"], row["tax_rate"]], line.service_start, line.service_end))
    return titles, rows


def _lines_table(pages: _Pages, titles: list[str], rows: list[tuple[list[str], date | None, date | None]],
                 fractions: Sequence[float] = LINE_COLUMNS, numeric: Sequence[bool] = LINE_NUMERIC) -> None:
    columns = _columns(fractions, LEFT, WIDTH)
    header_height = LINE * LINES_HEADER_SIZE + 2 * CELL_PAD_Y  # one-line titles (the usual case)
    laid_out = []
    for cells, service_start, service_end in rows:
        description_width = columns[1][1] - 2 * CELL_PAD_X
        description = wrap(cells[1], REGULAR, BODY, description_width)
        period = (wrap(f"Service period {_date(service_start)} – {_date(service_end)}", REGULAR, 7.5,
                       description_width) if service_start else [])
        wrapped = [wrap(cell, REGULAR, BODY, width - 2 * CELL_PAD_X) if n != 1 else description
                   for n, (cell, (_, width)) in enumerate(zip(cells, columns, strict=True))]
        text_height = max(max(len(lines) for lines in wrapped) * LINE * BODY,
                          len(description) * LINE * BODY + len(period) * LINE * 7.5)
        laid_out.append((wrapped, period, text_height + 2 * CELL_PAD_Y))

    margin = 8 * MM
    first = laid_out[0][2] if laid_out else 0.0
    pages.keep_together(margin, header_height + first)  # the header never alone at a page's foot
    _lines_header(pages, titles, columns, numeric)
    for wrapped, period, height in laid_out:
        if not pages.fits(height) and not pages.at_top:
            pages.new_page()
            _lines_header(pages, titles, columns, numeric)
        top = pages.y + CELL_PAD_Y
        for n, (lines, column, is_numeric) in enumerate(zip(wrapped, columns, numeric, strict=True)):
            x, align = _cell_x(column, is_numeric, CELL_PAD_X)
            used = _lines(pages, x, top, lines, align=align)
            if n == 1 and period:
                _lines(pages, x, top + used, period, REGULAR, 7.5, GREY)
        pages.y += height
        pages.rule(LEFT, RIGHT, pages.y - 0.25, 0.5, RULE)


def _summary(pages: _Pages, ctx: dict[str, Any], titles: list[str], totals: list[tuple[str, str]],
             gross: tuple[str, str]) -> None:
    """The tax summary per rate (left, under `titles`) and the totals (right, `gross` last)."""
    currency = ctx["currency"]
    tax_width = 0.56 * WIDTH
    columns = _columns(TAX_COLUMNS, LEFT, tax_width)
    pad = 1 * MM
    head = [wrap(title, BOLD, 7, width - 2 * pad) for title, (_, width) in zip(titles, columns, strict=True)]
    head_height = max(len(lines) for lines in head) * LINE * 7 + 2 * pad
    body = []
    for row in ctx["tax_summary"]:
        cells = [row["rate"], row["name"], f"{row['net']} {currency}", f"{row['tax']} {currency}"]
        wrapped = [wrap(_str(cell), REGULAR, BODY, width - 2 * pad) for cell, (_, width) in
                   zip(cells, columns, strict=True)]
        body.append((wrapped, max(len(lines) for lines in wrapped) * LINE * BODY + 2 * pad))
    table_height = head_height + sum(height for _, height in body)

    totals_width = 0.40 * WIDTH
    totals_x = RIGHT - totals_width
    kv_pad = 1.2 * MM
    totals_height = len(totals) * (LINE * BODY + 2 * kv_pad) + 1.5 + LINE * 11 + 2 * kv_pad

    pages.keep_together(6 * MM, max(table_height, totals_height))
    top = pages.y
    for lines, column, numeric in zip(head, columns, TAX_NUMERIC, strict=True):
        x, align = _cell_x(column, numeric, pad)
        _lines(pages, x, top + pad, lines, BOLD, 7, GREY, align)
    pages.rule(LEFT, LEFT + tax_width, top + head_height - 0.25, 0.5, RULE_DARK)
    y = top + head_height
    for wrapped, height in body:
        for lines, column, numeric in zip(wrapped, columns, TAX_NUMERIC, strict=True):
            x, align = _cell_x(column, numeric, pad)
            offset = (height - 2 * pad - len(lines) * LINE * BODY) / 2  # vertical-align: middle
            _lines(pages, x, y + pad + offset, lines, align=align)
        y += height

    right_y = top
    for key, value in totals:
        right_y += kv_pad
        right_y += _key_value(pages, totals_x + 1 * MM, right_y, totals_width - 2 * MM, key, value)
        right_y += kv_pad
    pages.rule(totals_x, RIGHT, right_y + 0.75, 1.5, BLUE)
    right_y += 1.5 + kv_pad
    right_y += _key_value(pages, totals_x + 1 * MM, right_y, totals_width - 2 * MM, *gross, font=BOLD, size=11)
    right_y += kv_pad
    pages.y = max(y, right_y)


def _notes(pages: _Pages, notes: list[str]) -> None:
    notes = [note for note in notes if note and note.strip()]
    if not notes:
        return
    border, pad = 2.25, 3 * MM  # border-left: 3px; padding: 3mm
    text_width = WIDTH - border - 2 * pad
    paragraphs = [wrap(_str(note), REGULAR, BODY, text_width) for note in notes]
    height = 2 * pad + sum(len(lines) * LINE * BODY + 1 * MM for lines in paragraphs)
    pages.keep_together(7 * MM, height)
    top = pages.y
    pages.rect(LEFT, top, WIDTH, height, NOTE_BG)
    pages.rect(LEFT, top, border, height, BLUE)
    y = top + pad
    for lines in paragraphs:
        y += _lines(pages, LEFT + border + pad, y, lines) + 1 * MM
    pages.y = top + height


def _remit(pages: _Pages, ctx: dict[str, Any]) -> None:
    invoice, seller = ctx["invoice"], ctx["seller"]
    paragraph = wrap(f"Please pay {ctx['gross_total']} {ctx['currency']} by {_date(invoice.due_date, 'the due date')}"
                     f" and quote the invoice number {invoice.number or ''} as the payment reference.",
                     REGULAR, BODY, WIDTH)
    key_width = 0.30 * WIDTH
    value_x = LEFT + key_width + _width(" ", REGULAR, BODY)
    bank = [(_str(key), wrap(_str(value), REGULAR, BODY, RIGHT - value_x)) for key, value in ctx["bank_rows"]]
    note = wrap(_str(seller.get("remittance_note")), REGULAR, BODY, WIDTH) if seller.get("remittance_note") else []
    p_margin = BODY  # the user-agent stylesheet's p { margin: 1em 0 }
    height = (LINE * LABEL + p_margin + len(paragraph) * LINE * BODY + p_margin
              + sum(len(lines) * LINE * BODY + 1 * MM for _, lines in bank)
              + (p_margin + len(note) * LINE * BODY if note else 0))
    pages.keep_together(6 * MM, height)
    y = pages.y
    y += _lines(pages, LEFT, y, ["PAYMENT INSTRUCTIONS"], REGULAR, LABEL, GREY, spacing=LABEL_SPACING)
    y += p_margin
    y += _lines(pages, LEFT, y, paragraph) + p_margin
    for key, lines in bank:
        y += 0.5 * MM
        pages.text(LEFT, y, key)
        y += _lines(pages, value_x, y, lines) + 0.5 * MM
    if note:
        y += p_margin
        y += _lines(pages, LEFT, y, note)
    pages.y = y


def _footer_text(ctx: dict[str, Any]) -> str:
    seller = ctx["seller"]
    text = _str(seller.get("legal_name"))
    if seller.get("registration_number"):
        text += f" · Registration {seller['registration_number']}"
    if seller.get("tax_id"):
        text += f" · {ctx['tax_label']} id {seller['tax_id']}"
    return " ".join(text.split())


def layout(ctx: dict[str, Any]) -> list[list[tuple[Any, ...]]]:
    """The invoice's pages as drawing operations (see `_Pages`): billing/pdf/_invoice_body.html."""
    label, currency = ctx["tax_label"], ctx["currency"]
    _register_fonts()  # measuring needs the fonts
    pages = _Pages()
    _header(pages, ctx)
    _title(pages, "Invoice", ctx["is_draft"])
    _parties(pages, ctx, "Bill to", _invoice_facts(ctx))
    _lines_table(pages, *_invoice_lines(ctx))
    _summary(pages, ctx, [f"{label} rate", "Category", "Taxable amount", f"{label} amount"],
             [("Net total", f"{ctx['net_total']} {currency}"), (f"{label} total", f"{ctx['tax_total']} {currency}")],
             ("Total due", f"{ctx['gross_total']} {currency}"))
    _notes(pages, ctx["legal_notes"])
    _remit(pages, ctx)
    return pages.pages


CREDIT_COLUMNS = (0.05, 0.22, 0.09, 0.10, 0.11, 0.09, 0.13, 0.09, 0.12)  # table.lines.credit
CREDIT_NUMERIC = (False, False, True, False, True, True, True, True, True)


def credit_note_layout(ctx: dict[str, Any]) -> list[list[tuple[Any, ...]]]:
    """A credit note's pages (`billing.services.credit_notes.credit_note_pdf_context`):
    billing/pdf/credit_note.html."""
    note, invoice = ctx["note"], ctx["invoice"]
    label, currency = ctx["tax_label"], ctx["currency"]
    facts = [("Credit note number", _str(note.number)), ("Date of issue", _date(note.issue_date)),
             ("Credited invoice", f"{_str(invoice.number)} of {_date(invoice.issue_date)}")]
    if invoice.service_start:
        facts.append(("Date of supply / service period",
                      f"{_date(invoice.service_start)} – {_date(invoice.service_end)}"))
    if invoice.po_number:
        facts.append(("PO number", _str(invoice.po_number)))
    facts += [("Reason", _str(ctx["reason"])), ("Currency", currency)]
    titles = ["#", "Description", "Quantity", "Unit", "Unit price", "Discount", "Net credited", f"{label} rate",
              f"{label} credited"]
    rows = [([_str(row["line"].position), _str(row["line"].description), row["quantity"], _str(row["unit"]),
              row["unit_price"], row["discount"] or "–", row["net"], row["tax_rate"], row["tax"]],
             row["service_start"], row["service_end"]) for row in ctx["lines"]]
    _register_fonts()
    pages = _Pages()
    _header(pages, ctx)
    _title(pages, "Credit note", False)
    _parties(pages, ctx, "Credit to", facts)
    _lines_table(pages, titles, rows, CREDIT_COLUMNS, CREDIT_NUMERIC)
    _summary(pages, ctx, [f"{label} rate", "Category", "Taxable amount credited", f"{label} credited"],
             [("Net credited", f"{ctx['net_total']} {currency}"),
              (f"{label} credited", f"{ctx['tax_total']} {currency}")],
             ("Total credited", f"{ctx['gross_total']} {currency}"))
    _notes(pages, [*ctx["legal_notes"], _str(note.explanation),
                   f"This credit note reduces the balance of invoice {_str(invoice.number)}; any amount already paid is"
                   f" held as a credit on your account."])
    return pages.pages


def _draw(canvas: Canvas, operations: list[tuple[Any, ...]]) -> None:
    fill = font = None
    for op in operations:
        kind = op[0]
        if kind == "t":
            _, x, top, text, font_name, size, color, align, spacing = op
            if (font_name, size) != font:
                canvas.setFont(font_name, size)
                font = (font_name, size)
            if color != fill:
                canvas.setFillColorRGB(*color)
                fill = color
            if align == "right":
                canvas.drawRightString(x, PAGE_H - top, text, charSpace=spacing)
            else:
                canvas.drawString(x, PAGE_H - top, text, charSpace=spacing)
        elif kind == "r":
            _, x, top, width, height, color = op
            if color != fill:
                canvas.setFillColorRGB(*color)
                fill = color
            canvas.rect(x, PAGE_H - top - height, width, height, stroke=0, fill=1)
        else:
            _, x1, x2, y, thickness, color = op
            canvas.setStrokeColorRGB(*color)
            canvas.setLineWidth(thickness)
            canvas.line(x1, PAGE_H - y, x2, PAGE_H - y)


def render_invoice(ctx: dict[str, Any], *, title: str) -> bytes:
    """The invoice of `ctx` (`billing.pdf.invoice_pdf_context`) as PDF bytes, titled `title`."""
    return _render(layout(ctx), ctx, title=title, issued=ctx["invoice"].issue_date)


def render_credit_note(ctx: dict[str, Any], *, title: str) -> bytes:
    """The credit note of `ctx` (`credit_note_pdf_context`) as PDF bytes, titled `title`."""
    return _render(credit_note_layout(ctx), ctx, title=title, issued=ctx["note"].issue_date)


def _render(pages: list[list[tuple[Any, ...]]], ctx: dict[str, Any], *, title: str, issued: date | None) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1, lang="en",
                    initialFontName=REGULAR, initialFontSize=BODY)
    if issued:  # the document's dates: its date of issue (the same bytes every time)
        canvas._doc._timeStamp.YMDhms = (issued.year, issued.month, issued.day, 0, 0, 0)
    canvas.setTitle(title)
    canvas.setAuthor(_str(ctx["seller"].get("legal_name")))
    canvas.setSubject(title)
    canvas.setCreator("otc")
    canvas.setProducer("otc (ReportLab)")
    footer = _footer_text(ctx)
    total = len(pages)
    for number, operations in enumerate(pages, start=1):
        _draw(canvas, operations)
        # @page: the footers in the bottom margin (22mm), vertically centred, 7pt grey
        canvas.setFont(REGULAR, 7)
        canvas.setFillColorRGB(*GREY)
        baseline = 11 * MM - 2.4
        canvas.drawString(16 * MM, baseline, footer)
        canvas.drawRightString(PAGE_W - 16 * MM, baseline, f"Page {number} of {total}")
        canvas.showPage()
    canvas.save()
    return out.getvalue()
