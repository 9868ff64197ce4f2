"""The aging as a workbook a finance person keeps using (one sheet per legal entity, numbers as
numbers with currency formats, frozen header, filters) and as a PDF."""

from __future__ import annotations

from decimal import Decimal

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from otc.exports import workbook_bytes
from otc.money import minor_units

from .engine import AgingReport

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEAD = PatternFill("solid", fgColor="DDE3EA")
_BOLD = Font(bold=True)


def money_format(currency: str) -> str:
    places = minor_units(currency)
    digits = "0." + "0" * places if places else "0"
    return f'#,##{digits} "{currency}";[Red]-#,##{digits} "{currency}"'


def _number(value: Decimal) -> float | int:
    """openpyxl writes Decimals as numbers; keep them Decimal (no float rounding on the way)."""
    return value


def aging_xlsx(report: AgingReport) -> bytes:
    params = report.params
    book = Workbook()
    book.remove(book.active)
    for block in report.entities:
        sheet = book.create_sheet(block.entity.code[:31])
        functional = block.functional_currency
        sheet["A1"] = f"AR aging {block.entity.name} as of {params.as_of:%Y-%m-%d}"
        sheet["A1"].font = Font(bold=True, size=13)
        sheet["A2"] = (f"Aged by {'due date' if params.basis == 'due' else 'document date'}, "
                       f"{'each document' if params.by == 'document' else 'customer oldest overdue'}; "
                       f"grouped by {report.dimension.title.lower()}; buckets {', '.join(b.text for b in block.buckets)}; "
                       f"FX to {functional} as of {params.as_of:%Y-%m-%d}: "
                       + (", ".join(f"{c} {r}" for c, r in block.fx_rates.items()) or "none"))
        header = [report.dimension.title, "Account", "Currency", *block.bucket_labels, "Unapplied credits",
                  "Unapplied cash", "Total", "FX rate", f"Total ({functional})"]
        head_row = 4
        for col, title in enumerate(header, start=1):
            cell = sheet.cell(row=head_row, column=col, value=title)
            cell.font, cell.fill = _BOLD, _HEAD
            cell.alignment = Alignment(horizontal="center" if col > 3 else "left", wrap_text=True)
        n = len(block.buckets)
        row_no = head_row
        for row in block.rows:
            row_no += 1
            values = [row.label, row.info.get("number", ""), row.currency, *row.buckets, row.credits, row.unapplied,
                      row.total, block.fx_rates[row.currency], row.functional_total]
            for col, value in enumerate(values, start=1):
                cell = sheet.cell(row=row_no, column=col, value=_number(value) if isinstance(value, Decimal) else value)
                if 4 <= col <= 6 + n:
                    cell.number_format = money_format(row.currency)
                elif col == 7 + n:
                    cell.number_format = "0.0000000000"
                elif col == 8 + n:
                    cell.number_format = money_format(functional)
        last = row_no
        if last > head_row:
            sheet.auto_filter.ref = f"A{head_row}:{get_column_letter(len(header))}{last}"
        row_no += 1
        for currency, t in block.totals.items():
            row_no += 1
            values = [f"Total {currency}", "", currency, *t["buckets"], t["credits"], t["unapplied"], t["total"],
                      t["rate"], t["functional_total"]]
            for col, value in enumerate(values, start=1):
                cell = sheet.cell(row=row_no, column=col, value=value)
                cell.font = _BOLD
                if 4 <= col <= 6 + n:
                    cell.number_format = money_format(currency)
                elif col == 8 + n:
                    cell.number_format = money_format(functional)
        row_no += 1
        values = [f"Total in {functional}", "", functional, *block.functional_buckets, block.functional_credits,
                  block.functional_unapplied, block.functional_total, None, block.functional_total]
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_no, column=col, value=value)
            cell.font = _BOLD
            if 4 <= col <= 8 + n and col != 7 + n:
                cell.number_format = money_format(functional)
        if block.control is not None:
            row_no += 2
            sheet.cell(row=row_no, column=1, value="Tie-out to the AR control accounts").font = _BOLD
            for title, col in (("Currency", 3), ("Aging total", 4), ("Control accounts", 5), ("Difference", 6)):
                sheet.cell(row=row_no + 1, column=col, value=title).font = _BOLD
            for tie in block.control:
                row_no += 1
                sheet.cell(row=row_no + 1, column=3, value=tie["currency"])
                for col, key in ((4, "aging_total"), (5, "control_balance"), (6, "difference")):
                    cell = sheet.cell(row=row_no + 1, column=col, value=tie[key])
                    cell.number_format = money_format(tie["currency"])
        sheet.freeze_panes = sheet.cell(row=head_row + 1, column=2)
        widths = [34, 12, 9, *([15] * n), 16, 15, 16, 14, 18]
        for col, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(col)].width = width
        sheet.row_dimensions[head_row].height = 30
        sheet.print_title_rows = f"{head_row}:{head_row}"
        sheet.page_setup.orientation = "landscape"
    if not report.entities:
        book.create_sheet("Aging")["A1"] = "No legal entity matches."
    return workbook_bytes(book)


def aging_pdf(report: AgingReport, *, generated_by: str = "") -> bytes:
    from weasyprint import HTML

    html = render_to_string("receivables/aging/aging_pdf.html", {"report": report, "generated_by": generated_by})
    return HTML(string=html).write_pdf()
