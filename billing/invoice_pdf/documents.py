"""The sections of an invoice and of a credit note, in their templates' order
(billing/pdf/_invoice_body.html, billing/pdf/credit_note.html), laid out on `Pages`; and the two
documents rendered as PDF bytes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from billing.invoice_pdf.page import (
    BASELINE,
    BLUE,
    BODY,
    BOLD,
    GREY,
    LABEL,
    LABEL_SPACING,
    LEFT,
    LINE,
    LINE_COLUMNS,
    LINE_NUMERIC,
    MM,
    NOTE_BG,
    RED,
    REGULAR,
    RIGHT,
    RULE,
    RULE_DARK,
    TAX_COLUMNS,
    TAX_NUMERIC,
    TITLE,
    WHITE,
    WIDTH,
    Pages,
    as_text,
    date_text,
    draw_lines,
    register_fonts,
    text_width,
    wrap,
    write_pdf,
)

# --- the sections, in the template's order ---------------------------------------------------------

def _header(pages: Pages, ctx: dict[str, Any]) -> None:
    seller = ctx["seller"]
    top = pages.y
    left_width, right_width = 0.62 * WIDTH, 0.36 * WIDTH
    y = top + draw_lines(pages, LEFT, top, wrap(as_text(seller.get("legal_name")), BOLD, 15, left_width), BOLD, 15, BLUE)
    rows = list(ctx["seller_address"])
    if seller.get("email"):
        rows.append(seller["email"] + (f" · {seller['phone']}" if seller.get("phone") else ""))
    for row in rows:
        y += draw_lines(pages, LEFT, y, wrap(as_text(row), REGULAR, BODY, left_width))
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
        right_y += draw_lines(pages, RIGHT, right_y, wrap(as_text(value), REGULAR, 8, right_width), REGULAR, 8,
                          align="right")
    bottom = max(y, right_y) + 6 * MM  # padding-bottom: 6mm, then the 2px rule
    pages.rule(LEFT, RIGHT, bottom + 0.75, 1.5, BLUE)
    pages.y = bottom + 1.5


def _title(pages: Pages, title: str, draft: bool) -> None:
    pages.y += 8 * MM
    pages.text(LEFT, pages.y, title, BOLD, 20, TITLE, spacing=0.5)
    if draft:
        x = LEFT + text_width(f"{title} ", BOLD, 20, 0.5)
        # the 12pt span sits on the 20pt line's baseline
        pages.text(x, pages.y + BASELINE * 20 - BASELINE * 12, "DRAFT – not a valid invoice", BOLD, 12, RED,
                   spacing=0.5)
    pages.y += LINE * 20 + 2 * MM


def _key_value(pages: Pages, x: float, top: float, width: float, label: str, value: str, font: str = REGULAR,
               size: float = BODY, value_font: str = BOLD) -> float:
    """A .kv row's text (label left, the value right on the last line, the label wrapping
    before it when both do not fit); the height of its lines."""
    value_width = text_width(value, value_font, size)
    space = text_width(" ", font, size)
    words = label.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, font, size) <= width:
            current = candidate
        else:
            if current:
                lines.append(current)
            current = word
    if current and text_width(current, font, size) + space + value_width > width:
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
        ("Date of issue", date_text(invoice.issue_date, "–")),
        ("Due date", date_text(invoice.due_date, "–")),
        ("Payment terms", f"{invoice.payment_terms_days} days net" if invoice.payment_terms_days else "Due on receipt"),
    ]
    if invoice.service_start:
        facts.append(("Date of supply / service period",
                      f"{date_text(invoice.service_start)} – {date_text(invoice.service_end)}"))
    if invoice.po_number:
        facts.append(("PO number", as_text(invoice.po_number)))
    facts.append(("Currency", ctx["currency"]))
    return facts


def _parties(pages: Pages, ctx: dict[str, Any], party: str, facts: list[tuple[str, str]]) -> None:
    """The customer (left, under the label `party`) and the document's facts (right)."""
    pages.y += 4 * MM
    top = pages.y
    bill_to = ctx["bill_to"]
    left_width = 0.55 * WIDTH
    y = top + draw_lines(pages, LEFT, top, [party.upper()], REGULAR, LABEL, GREY, spacing=LABEL_SPACING)
    y += draw_lines(pages, LEFT, y, wrap(as_text(bill_to.get("legal_name")), BOLD, 10, left_width), BOLD, 10)
    rows = list(ctx["bill_to_address"])
    if bill_to.get("tax_id"):
        rows.append(f"Customer {ctx['customer_tax_label']} id: {bill_to['tax_id']}")
    if bill_to.get("account_number"):
        rows.append(f"Customer account: {bill_to['account_number']}")
    for row in rows:
        y += draw_lines(pages, LEFT, y, wrap(as_text(row), REGULAR, BODY, left_width))

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


def _lines_header(pages: Pages, titles: list[str], columns: list[tuple[float, float]],
                  numeric: Sequence[bool]) -> None:
    wrapped = [wrap(title, REGULAR, LINES_HEADER_SIZE, width - 2 * CELL_PAD_X) for title, (_, width) in
               zip(titles, columns, strict=True)]
    height = max(len(lines) for lines in wrapped) * LINE * LINES_HEADER_SIZE + 2 * CELL_PAD_Y
    pages.rect(LEFT, pages.y, WIDTH, height, BLUE)
    for lines, column, is_numeric in zip(wrapped, columns, numeric, strict=True):
        x, align = _cell_x(column, is_numeric, CELL_PAD_X)
        # header cells are vertically centred (thead's vertical-align: middle)
        offset = (height - 2 * CELL_PAD_Y - len(lines) * LINE * LINES_HEADER_SIZE) / 2
        draw_lines(pages, x, pages.y + CELL_PAD_Y + offset, lines, REGULAR, LINES_HEADER_SIZE, WHITE, align)
    pages.y += height


def _invoice_lines(ctx: dict[str, Any]) -> tuple[list[str], list[tuple[list[str], date | None, date | None]]]:
    """The lines table's titles, and per line its cells (the description second) and service period."""
    titles = ["#", "Description", "Quantity", "Unit", "Unit price", "Discount", "Net amount", f"{ctx['tax_label']} rate"]
    rows = []
    for row in ctx["lines"]:
        line = row["line"]
        rows.append(([as_text(line.position), as_text(line.description), row["quantity"], row["unit"], row["unit_price"],
                      row["discount"] or "–", row["net"], row["tax_rate"]], line.service_start, line.service_end))
    return titles, rows


def _lines_table(pages: Pages, titles: list[str], rows: list[tuple[list[str], date | None, date | None]],
                 fractions: Sequence[float] = LINE_COLUMNS, numeric: Sequence[bool] = LINE_NUMERIC) -> None:
    columns = _columns(fractions, LEFT, WIDTH)
    header_height = LINE * LINES_HEADER_SIZE + 2 * CELL_PAD_Y  # one-line titles (the usual case)
    laid_out = []
    for cells, service_start, service_end in rows:
        description_width = columns[1][1] - 2 * CELL_PAD_X
        description = wrap(cells[1], REGULAR, BODY, description_width)
        period = (wrap(f"Service period {date_text(service_start)} – {date_text(service_end)}", REGULAR, 7.5,
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
            used = draw_lines(pages, x, top, lines, align=align)
            if n == 1 and period:
                draw_lines(pages, x, top + used, period, REGULAR, 7.5, GREY)
        pages.y += height
        pages.rule(LEFT, RIGHT, pages.y - 0.25, 0.5, RULE)


def _summary(pages: Pages, ctx: dict[str, Any], titles: list[str], totals: list[tuple[str, str]],
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
        wrapped = [wrap(as_text(cell), REGULAR, BODY, width - 2 * pad) for cell, (_, width) in
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
        draw_lines(pages, x, top + pad, lines, BOLD, 7, GREY, align)
    pages.rule(LEFT, LEFT + tax_width, top + head_height - 0.25, 0.5, RULE_DARK)
    y = top + head_height
    for wrapped, height in body:
        for lines, column, numeric in zip(wrapped, columns, TAX_NUMERIC, strict=True):
            x, align = _cell_x(column, numeric, pad)
            offset = (height - 2 * pad - len(lines) * LINE * BODY) / 2  # vertical-align: middle
            draw_lines(pages, x, y + pad + offset, lines, align=align)
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


def _notes(pages: Pages, notes: list[str]) -> None:
    notes = [note for note in notes if note and note.strip()]
    if not notes:
        return
    border, pad = 2.25, 3 * MM  # border-left: 3px; padding: 3mm
    text_width = WIDTH - border - 2 * pad
    paragraphs = [wrap(as_text(note), REGULAR, BODY, text_width) for note in notes]
    height = 2 * pad + sum(len(lines) * LINE * BODY + 1 * MM for lines in paragraphs)
    pages.keep_together(7 * MM, height)
    top = pages.y
    pages.rect(LEFT, top, WIDTH, height, NOTE_BG)
    pages.rect(LEFT, top, border, height, BLUE)
    y = top + pad
    for lines in paragraphs:
        y += draw_lines(pages, LEFT + border + pad, y, lines) + 1 * MM
    pages.y = top + height


def _remit(pages: Pages, ctx: dict[str, Any]) -> None:
    invoice, seller = ctx["invoice"], ctx["seller"]
    paragraph = wrap(f"Please pay {ctx['gross_total']} {ctx['currency']} by {date_text(invoice.due_date, 'the due date')}"
                     f" and quote the invoice number {invoice.number or ''} as the payment reference.",
                     REGULAR, BODY, WIDTH)
    key_width = 0.30 * WIDTH
    value_x = LEFT + key_width + text_width(" ", REGULAR, BODY)
    bank = [(as_text(key), wrap(as_text(value), REGULAR, BODY, RIGHT - value_x)) for key, value in ctx["bank_rows"]]
    note = wrap(as_text(seller.get("remittance_note")), REGULAR, BODY, WIDTH) if seller.get("remittance_note") else []
    p_margin = BODY  # the user-agent stylesheet's p { margin: 1em 0 }
    height = (LINE * LABEL + p_margin + len(paragraph) * LINE * BODY + p_margin
              + sum(len(lines) * LINE * BODY + 1 * MM for _, lines in bank)
              + (p_margin + len(note) * LINE * BODY if note else 0))
    pages.keep_together(6 * MM, height)
    y = pages.y
    y += draw_lines(pages, LEFT, y, ["PAYMENT INSTRUCTIONS"], REGULAR, LABEL, GREY, spacing=LABEL_SPACING)
    y += p_margin
    y += draw_lines(pages, LEFT, y, paragraph) + p_margin
    for key, lines in bank:
        y += 0.5 * MM
        pages.text(LEFT, y, key)
        y += draw_lines(pages, value_x, y, lines) + 0.5 * MM
    if note:
        y += p_margin
        y += draw_lines(pages, LEFT, y, note)
    pages.y = y


def _footer_text(ctx: dict[str, Any]) -> str:
    seller = ctx["seller"]
    text = as_text(seller.get("legal_name"))
    if seller.get("registration_number"):
        text += f" · Registration {seller['registration_number']}"
    if seller.get("tax_id"):
        text += f" · {ctx['tax_label']} id {seller['tax_id']}"
    return " ".join(text.split())


def layout(ctx: dict[str, Any]) -> list[list[tuple[Any, ...]]]:
    """The invoice's pages as drawing operations (see `Pages`): billing/pdf/_invoice_body.html."""
    label, currency = ctx["tax_label"], ctx["currency"]
    register_fonts()  # measuring needs the fonts
    pages = Pages()
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
    facts = [("Credit note number", as_text(note.number)), ("Date of issue", date_text(note.issue_date)),
             ("Credited invoice", f"{as_text(invoice.number)} of {date_text(invoice.issue_date)}")]
    if invoice.service_start:
        facts.append(("Date of supply / service period",
                      f"{date_text(invoice.service_start)} – {date_text(invoice.service_end)}"))
    if invoice.po_number:
        facts.append(("PO number", as_text(invoice.po_number)))
    facts += [("Reason", as_text(ctx["reason"])), ("Currency", currency)]
    titles = ["#", "Description", "Quantity", "Unit", "Unit price", "Discount", "Net credited", f"{label} rate",
              f"{label} credited"]
    rows = [([as_text(row["line"].position), as_text(row["line"].description), row["quantity"], as_text(row["unit"]),
              row["unit_price"], row["discount"] or "–", row["net"], row["tax_rate"], row["tax"]],
             row["service_start"], row["service_end"]) for row in ctx["lines"]]
    register_fonts()
    pages = Pages()
    _header(pages, ctx)
    _title(pages, "Credit note", False)
    _parties(pages, ctx, "Credit to", facts)
    _lines_table(pages, titles, rows, CREDIT_COLUMNS, CREDIT_NUMERIC)
    _summary(pages, ctx, [f"{label} rate", "Category", "Taxable amount credited", f"{label} credited"],
             [("Net credited", f"{ctx['net_total']} {currency}"),
              (f"{label} credited", f"{ctx['tax_total']} {currency}")],
             ("Total credited", f"{ctx['gross_total']} {currency}"))
    _notes(pages, [*ctx["legal_notes"], as_text(note.explanation),
                   f"This credit note reduces the balance of invoice {as_text(invoice.number)}; any amount already paid is"
                   f" held as a credit on your account."])
    return pages.pages



def render_invoice(ctx: dict[str, Any], *, title: str) -> bytes:
    """The invoice of `ctx` (`billing.pdf.invoice_pdf_context`) as PDF bytes, titled `title`."""
    return write_pdf(layout(ctx), title=title, author=as_text(ctx["seller"].get("legal_name")),
                     footer=_footer_text(ctx), issued=ctx["invoice"].issue_date)


def render_credit_note(ctx: dict[str, Any], *, title: str) -> bytes:
    """The credit note of `ctx` (`credit_note_pdf_context`) as PDF bytes, titled `title`."""
    return write_pdf(credit_note_layout(ctx), title=title, author=as_text(ctx["seller"].get("legal_name")),
                     footer=_footer_text(ctx), issued=ctx["note"].issue_date)
