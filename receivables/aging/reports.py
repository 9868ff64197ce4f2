"""The monthly AR report pack ("regular AR reporting to highlight risks"): the aging by entity,
the KPIs with their trend, the top overdue customers and their movement, concentration,
customers over their limit and a written list of exceptions. PDF + XLSX, stored once per month,
e-mailed to `AR_REPORT_RECIPIENTS`. Beat runs `ar_report_monthly_due` daily; it generates on the
`AR_REPORT_BUSINESS_DAY`-th business day after month-end (or later, if that day was missed).

Exception rules live here; each threshold is a setting (`AR_REPORT_THRESHOLDS`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from openpyxl.styles import Font

from otc import dates
from otc.errors import PermissionDenied
from otc.exports import workbook_bytes
from otc.models import User
from otc.money import money_text

from ..models import ArReportPack
from .engine import AgingParams, aging_report
from .exports import XLSX, aging_xlsx, money_format
from .kpis import EntityKpis, ar_kpis, month_end

GENERATE = "receivables.generate_ar_report"
DEFAULT_THRESHOLDS = {
    "overdue_pct": Decimal("25"),          # overdue share of receivables above this %
    "over_90_pct": Decimal("10"),          # over-90 share above this %
    "dso_rise_days": Decimal("5"),         # DSO up by more than this many days on the month
    "concentration_pct": Decimal("50"),    # top-10 customers hold more than this % of AR
    "customer_overdue_rise": Decimal("10000"),  # a customer's overdue grew by more than this (functional)
    "unapplied_cash_pct": Decimal("5"),    # unapplied cash above this % of receivables
}


def thresholds() -> dict[str, Decimal]:
    configured = getattr(settings, "AR_REPORT_THRESHOLDS", {}) or {}
    return {k: Decimal(str(configured.get(k, v))) for k, v in DEFAULT_THRESHOLDS.items()}


def report_exceptions(blocks: list[EntityKpis], limits: dict[str, Decimal] | None = None) -> list[dict[str, Any]]:
    """The written exceptions: one sentence per rule broken, naming entity, figure and threshold."""
    t = limits or thresholds()
    out: list[dict[str, Any]] = []

    def add(rule: str, entity: str, text: str) -> None:
        out.append({"rule": rule, "entity": entity, "text": text})

    for b in blocks:
        m, p, code, cur = b.latest, b.previous, b.entity.code, b.currency
        if m is None:
            continue
        if m.overdue_pct is not None and m.overdue_pct > t["overdue_pct"]:
            add("overdue_pct", code, f"{code}: {m.overdue_pct} % of receivables is overdue (threshold {t['overdue_pct']} %).")
        if m.over_90_pct is not None and m.over_90_pct > t["over_90_pct"]:
            add("over_90_pct", code, f"{code}: {m.over_90_pct} % is more than 90 days overdue (threshold {t['over_90_pct']} %).")
        if p is not None and m.dso is not None and p.dso is not None and m.dso - p.dso > t["dso_rise_days"]:
            add("dso_rise_days", code, f"{code}: DSO rose from {p.dso} to {m.dso} days (threshold +{t['dso_rise_days']}).")
        if b.concentration_pct is not None and b.concentration_pct > t["concentration_pct"]:
            add("concentration_pct", code, f"{code}: the top 10 customers hold {b.concentration_pct} % of AR "
                                           f"(threshold {t['concentration_pct']} %).")
        if m.receivables and Decimal(100) * m.unapplied_cash / m.receivables > t["unapplied_cash_pct"]:
            add("unapplied_cash_pct", code, f"{code}: unapplied cash of {money_text(m.unapplied_cash, cur)} exceeds "
                                            f"{t['unapplied_cash_pct']} % of receivables.")
        for e in b.top_overdue:
            if e["overdue_change"] > t["customer_overdue_rise"]:
                add("customer_overdue_rise", code, f"{code}: {e['customer'].legal_name}'s overdue grew by "
                                                   f"{money_text(e['overdue_change'], cur)} to {money_text(e['overdue'], cur)}.")
        for e in b.over_limit:
            add("over_limit", code, f"{code}: {e['customer'].legal_name} owes {money_text(e['balance'], e['currency'])}, "
                                    f"over its credit limit of {money_text(e['limit'], e['currency'])}.")
    return out


def _pack_xlsx(aging_bytes: bytes, blocks: list[EntityKpis], exceptions: list[dict[str, Any]]) -> bytes:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(aging_bytes))
    for sheet in book.worksheets:
        sheet.title = f"Aging {sheet.title}"[:31]
    bold = Font(bold=True)
    kpi = book.create_sheet("KPIs")
    kpi.append(["Entity", "Month", "Total AR", "Receivables", "Overdue", "Overdue %", "Over 90", "Over 90 %", "DSO",
                "DSO count-back", "Best possible DSO", "ADD", "CEI %", "Unapplied cash", "Sales"])
    for cell in kpi[1]:
        cell.font = bold
    for b in blocks:
        for m in b.months:
            if not m.snapshot_id:
                continue
            kpi.append([b.entity.code, m.month.strftime("%Y-%m"), m.total_ar, m.receivables, m.overdue, m.overdue_pct,
                        m.over_90, m.over_90_pct, m.dso, m.dso_count_back, m.best_dso, m.add, m.cei, m.unapplied_cash,
                        m.sales])
            for col in (3, 4, 5, 7, 14, 15):
                kpi.cell(row=kpi.max_row, column=col).number_format = money_format(b.currency)
    kpi.freeze_panes = "C2"
    top = book.create_sheet("Top overdue")
    top.append(["Entity", "Customer", "Account", "Overdue", "Overdue last month", "Change", "Balance", "Balance change"])
    for cell in top[1]:
        cell.font = bold
    for b in blocks:
        for e in b.top_overdue:
            top.append([b.entity.code, e["customer"].legal_name, e["customer"].account_number, e["overdue"],
                        e["overdue_before"], e["overdue_change"], e["total"], e["change"]])
            for col in (4, 5, 6, 7, 8):
                top.cell(row=top.max_row, column=col).number_format = money_format(b.currency)
    top.freeze_panes = "A2"
    limits = book.create_sheet("Over limit")
    limits.append(["Entity", "Customer", "Balance", "Credit limit", "Excess"])
    for b in blocks:
        for e in b.over_limit:
            limits.append([b.entity.code, e["customer"].legal_name, e["balance"], e["limit"], e["excess"]])
            for col in (3, 4, 5):
                limits.cell(row=limits.max_row, column=col).number_format = money_format(e["currency"])
    exc = book.create_sheet("Exceptions")
    exc.append(["Entity", "Rule", "Exception"])
    for e in exceptions:
        exc.append([e["entity"], e["rule"], e["text"]])
    exc.column_dimensions["C"].width = 110
    return workbook_bytes(book)


@transaction.atomic(durable=True)
def ar_report_generate(*, month: dt.date, by: User | None, email: bool = True) -> ArReportPack:
    """Generate (or regenerate) the pack of the month containing `month`; e-mail it after commit."""
    if by is not None and not by.has_perm(GENERATE):
        raise PermissionDenied("Your role may not generate the AR report pack.")
    as_of = month_end(month)
    report = aging_report(params=AgingParams(as_of=as_of), user=None)
    blocks = ar_kpis(user=None, months=12, as_of=as_of)
    exceptions = report_exceptions(blocks)
    html = render_to_string("receivables/aging/report_pack_pdf.html", {
        "report": report, "blocks": blocks, "exceptions": exceptions, "as_of": as_of, "thresholds": thresholds(),
    })
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    xlsx = _pack_xlsx(aging_xlsx(report), blocks, exceptions)
    pack, _ = ArReportPack.objects.update_or_create(month=as_of, defaults={
        "pdf": pdf, "xlsx": xlsx, "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
        "exceptions": [e["text"] for e in exceptions], "generated_by": by, "generated_at": dates.now(),
        "emailed_to": [], "emailed_at": None,
    })
    if email and getattr(settings, "AR_REPORT_RECIPIENTS", None):
        transaction.on_commit(lambda: ar_report_email(pack_id=pack.id))
    return pack


def ar_report_email(*, pack_id: int) -> ArReportPack:
    pack = ArReportPack.objects.get(pk=pack_id)
    recipients = list(settings.AR_REPORT_RECIPIENTS)
    label = pack.month.strftime("%Y-%m")
    body = (f"The AR report pack for {label} is attached (PDF and Excel).\n\n"
            + ("Exceptions:\n" + "\n".join(f"- {e}" for e in pack.exceptions) if pack.exceptions else "No exceptions.")
            + "\n")
    message = EmailMessage(subject=f"AR report pack {label}", body=body, to=recipients)
    message.attach(f"ar-report-{label}.pdf", bytes(pack.pdf), "application/pdf")
    message.attach(f"ar-report-{label}.xlsx", bytes(pack.xlsx), XLSX)
    message.send()
    ArReportPack.objects.filter(pk=pack.pk).update(emailed_to=recipients, emailed_at=dates.now())
    pack.refresh_from_db()
    return pack


def nth_business_day(year: int, month: int, n: int) -> dt.date:
    day, count = dt.date(year, month, 1), 0
    while True:
        if day.weekday() < 5:
            count += 1
            if count == n:
                return day
        day += dt.timedelta(days=1)


def ar_report_monthly_due(*, force: bool = False) -> int | None:
    """Beat, daily: last month's pack on (or after) the configured business day, once."""
    today = dates.today()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    due = nth_business_day(today.year, today.month, int(getattr(settings, "AR_REPORT_BUSINESS_DAY", 3)))
    if not force and (today < due or ArReportPack.objects.filter(month=last_month).exists()):
        return None
    return ar_report_generate(month=last_month, by=None).id
