"""The reserve calculation sheet (PDF and XLSX: matrix, rates, derivation, adjustments, specific
reserves, entry) and the derivation table as a workbook. Every cell goes through
otc.exports.sheet_append (formula-safe); numbers stay numbers with currency formats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from collections_app.models import ReserveLine, ReserveRun
from otc.exports import sheet_append, workbook_bytes
from receivables.aging.exports import XLSX, money_format

_HEAD = PatternFill("solid", fgColor="DDE3EA")
_BOLD = Font(bold=True)
PCT = "0.0000%"

__all__ = ["XLSX", "derivation_xlsx", "run_sheet_context", "sheet_pdf", "sheet_xlsx"]


def run_sheet_context(run: ReserveRun) -> dict[str, Any]:
    lines = list(run.lines.select_related("customer", "invoice").order_by("kind", "segment", "bucket", "id"))
    entry_lines = list(run.journal_entry.lines.select_related("account").order_by("id")) if run.journal_entry_id else []
    return {
        "run": run, "policy": run.policy, "policy_rates": list(run.policy.rates.order_by("segment", "bucket")),
        "matrix": [line for line in lines if line.kind == ReserveLine.Kind.MATRIX],
        "specifics": [line for line in lines if line.kind == ReserveLine.Kind.SPECIFIC],
        "derivation": run.derivation or None, "entry_lines": entry_lines,
        "gross": sum((line.balance for line in lines), Decimal(0)),
    }


def _header(sheet, values: list[Any]) -> None:
    sheet_append(sheet, values)
    for cell in sheet[sheet.max_row]:
        cell.font, cell.fill = _BOLD, _HEAD


def _formats(sheet, row: int, money_cols: list[int], pct_cols: list[int], currency: str) -> None:
    for col in money_cols:
        sheet.cell(row=row, column=col).number_format = money_format(currency)
    for col in pct_cols:
        sheet.cell(row=row, column=col).number_format = PCT


def sheet_xlsx(run: ReserveRun) -> bytes:
    ctx = run_sheet_context(run)
    cur = run.functional_currency
    book = Workbook()
    sheet = book.active
    sheet.title = "Calculation"
    sheet_append(sheet, [f"Bad-debt reserve {run.legal_entity.code} as of {run.as_of.isoformat()} ({run.get_status_display()})"])
    sheet["A1"].font = Font(bold=True, size=13)
    policy = run.policy
    sheet_append(sheet, [f"Policy from {policy.effective_date.isoformat()}: {policy.get_method_display()}; factor "
                         f"{policy.overlay_factor} {policy.overlay_reason}; snapshot #{run.snapshot_id} of "
                         f"{run.snapshot.as_of.isoformat()}"])
    sheet_append(sheet, [])
    _header(sheet, ["Segment", "Bucket", "Balance", "Base rate", "Overlay", "Rate applied", "Allowance"])
    sheet.freeze_panes = "A5"
    for line in ctx["matrix"]:
        sheet_append(sheet, [line.segment or "all", line.bucket_label, line.balance, line.base_rate, line.overlay,
                             line.rate, line.allowance])
        _formats(sheet, sheet.max_row, [3, 7], [4, 5, 6], cur)
    sheet_append(sheet, ["Matrix total", "", None, None, None, None, run.matrix_total])
    _formats(sheet, sheet.max_row, [7], [], cur)
    sheet_append(sheet, [])
    _header(sheet, ["Specific reserve", "Reason", "Balance", "Percent", "", "", "Allowance"])
    for line in ctx["specifics"]:
        what = f"{line.customer}" + (f" / {line.invoice.number}" if line.invoice_id else "")
        sheet_append(sheet, [what, line.reason, line.balance, line.rate, None, None, line.allowance])
        _formats(sheet, sheet.max_row, [3, 7], [4], cur)
    sheet_append(sheet, ["Specific total", "", None, None, None, None, run.specific_total])
    _formats(sheet, sheet.max_row, [7], [], cur)
    sheet_append(sheet, [])
    for label, value in (("Required allowance", run.required_total), ("Allowance in the ledger", run.ledger_balance),
                         ("True-up (+ charge, - release)", run.adjustment)):
        sheet_append(sheet, [label, "", None, None, None, None, value])
        _formats(sheet, sheet.max_row, [7], [], cur)
        sheet.cell(row=sheet.max_row, column=1).font = _BOLD
    if ctx["entry_lines"]:
        sheet_append(sheet, [])
        _header(sheet, [f"Entry {run.journal_entry.number}", "Account", "Amount"])
        for line in ctx["entry_lines"]:
            sheet_append(sheet, ["", f"{line.account.code} {line.account.name}", line.amount])
            _formats(sheet, sheet.max_row, [3], [], cur)
    for col, width in zip("ABCDEFG", (28, 30, 18, 12, 12, 12, 18), strict=True):
        sheet.column_dimensions[col].width = width
    if run.derivation:
        _derivation_sheet(book.create_sheet("Derivation"), run.derivation, cur)
    return workbook_bytes(book)


def _derivation_sheet(sheet, d: dict[str, Any], cur: str) -> None:
    labels = d["buckets"]
    sheet_append(sheet, [f"{'Roll-rate' if d['method'] == 'roll_rate' else 'Historical loss-rate'} derivation as of "
                         f"{d['as_of']}, look-back {d['lookback_months']} months"])
    sheet["A1"].font = Font(bold=True, size=12)
    if d.get("missing_snapshots"):
        sheet_append(sheet, ["Month-ends without a published snapshot: " + ", ".join(d["missing_snapshots"])])
    sheet_append(sheet, [])
    n = len(labels)
    if d["method"] == "roll_rate":
        _header(sheet, ["From", "Snapshot", "To", "Snapshot", *(f"{b} balance" for b in labels),
                        *(f"rolled from {b}" for b in labels[:-1]), "written off", *(f"rate {b}" for b in labels)])
        for row in d["rows"]:
            sheet_append(sheet, [row["from"], row["from_snapshot"], row["to"], row["to_snapshot"],
                                 *map(Decimal, row["balances"]), *map(Decimal, row["rolled"]),
                                 *map(Decimal, row["rates"])])
            _formats(sheet, sheet.max_row, list(range(5, 5 + 2 * n)), list(range(5 + 2 * n, 5 + 3 * n)), cur)
        sheet_append(sheet, [])
        _header(sheet, ["", "Numerator", "Denominator", "Roll rate", "Loss rate (product to the last bucket)"])
        for i, label in enumerate(labels):
            sheet_append(sheet, [label, Decimal(d["numerators"][i]), Decimal(d["denominators"][i]),
                                 Decimal(d["roll_rates"][i]), Decimal(d["loss_rates"][i])])
            _formats(sheet, sheet.max_row, [2, 3], [4, 5], cur)
        if d.get("terminal_rate") is not None:
            sheet_append(sheet, [f"Last bucket: the policy's terminal rate {d['terminal_rate']} replaces the observed "
                                 f"{d['observed_terminal']}."])
    else:
        _header(sheet, ["At", "Snapshot", *(f"{b} balance" for b in labels), *(f"{b} written off later" for b in labels),
                        *(f"rate {b}" for b in labels)])
        for row in d["rows"]:
            sheet_append(sheet, [row["at"], row["snapshot"], *map(Decimal, row["balances"]),
                                 *map(Decimal, row["written_off_later"]), *map(Decimal, row["rates"])])
            _formats(sheet, sheet.max_row, list(range(3, 3 + 2 * n)), list(range(3 + 2 * n, 3 + 3 * n)), cur)
        sheet_append(sheet, [])
        _header(sheet, ["", "Written off", "Balance", "Loss rate"])
        for i, label in enumerate(labels):
            sheet_append(sheet, [label, Decimal(d["numerators"][i]), Decimal(d["denominators"][i]),
                                 Decimal(d["loss_rates"][i])])
            _formats(sheet, sheet.max_row, [2, 3], [4], cur)
        sheet_append(sheet, [])
        _header(sheet, ["Billing month", "Snapshot", "Billed", *(f"written off from {b}" for b in labels), "Written off",
                        "Share written off"])
        for c in d.get("cohorts", []):
            sheet_append(sheet, [c["month"], c["snapshot"], Decimal(c["billed"]),
                                 *map(Decimal, c["written_off_by_bucket_reached"]), Decimal(c["written_off"]),
                                 Decimal(c["rate"])])
            _formats(sheet, sheet.max_row, list(range(3, 5 + n)), [5 + n], cur)
    _segments_block(sheet, d, cur)
    sheet.column_dimensions["A"].width = 14


def _segments_block(sheet, d: dict[str, Any], cur: str) -> None:
    """Per segment: its sums and loss rates, or the pooled rates it falls back to (too little history)."""
    if not d.get("segments"):
        return
    labels = d["buckets"]
    sheet_append(sheet, [])
    sheet_append(sheet, [f"Per segment ({d.get('segment_by', '')}); a segment with a balance in fewer than "
                         f"{d.get('min_segment_months')} month-ends uses the pooled rates above."])
    _header(sheet, ["Segment", "Month-ends with a balance", "Rates", *(f"numerator {b}" for b in labels),
                    *(f"denominator {b}" for b in labels), *(f"loss rate {b}" for b in labels)])
    n = len(labels)
    for seg, data in d["segments"].items():
        own = not data["fallback"]
        sheet_append(sheet, [seg or "(blank)", data["months_with_balance"], "own" if own else "pooled (fallback)",
                             *(map(Decimal, data["numerators"]) if own else [""] * n),
                             *(map(Decimal, data["denominators"]) if own else [""] * n),
                             *map(Decimal, data["loss_rates"])])
        _formats(sheet, sheet.max_row, list(range(4, 4 + 2 * n)), list(range(4 + 2 * n, 4 + 3 * n)), cur)


def derivation_xlsx(derivation: dict[str, Any], currency: str) -> bytes:
    book = Workbook()
    _derivation_sheet(book.active, derivation, currency)
    book.active.title = "Derivation"
    return workbook_bytes(book)


def sheet_pdf(run: ReserveRun, *, generated_by: str = "") -> bytes:
    from weasyprint import HTML

    html = render_to_string("collections_app/reserve/sheet_pdf.html", {**run_sheet_context(run),
                                                                        "generated_by": generated_by})
    return HTML(string=html).write_pdf()
