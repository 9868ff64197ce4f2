"""Contract values, derived in Decimal in the contract currency: monthly net per line, total
contract value (TCV), first-year value and annualised value. Partial months count by days used
over days in that month (DESIGN.md proration); each line is rounded once to the currency."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from otc.money import ZERO, quantize

HUNDRED = Decimal(100)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: dt.date, end: dt.date) -> Decimal:
    """Months from `start` to `end` inclusive, partial months by days: 2026-03-10..2026-03-31 is
    22/31; 2026-01-01..2026-12-31 is 12."""
    if end < start:
        return ZERO
    total = ZERO
    cursor = start
    while cursor <= end:
        days_in_month = calendar.monthrange(cursor.year, cursor.month)[1]
        month_end = dt.date(cursor.year, cursor.month, days_in_month)
        last = min(month_end, end)
        if cursor.day == 1 and last == month_end:
            total += 1
        else:
            total += Decimal((last - cursor).days + 1) / Decimal(days_in_month)
        cursor = month_end + dt.timedelta(days=1)
    return total


def discount_factor(line_discount: Decimal, contract_discount: Decimal) -> Decimal:
    """Line discount then contract discount, multiplied (DESIGN.md)."""
    return (1 - line_discount / HUNDRED) * (1 - contract_discount / HUNDRED)


def effective_discount_percent(line_discount: Decimal, contract_discount: Decimal) -> Decimal:
    return (1 - discount_factor(line_discount, contract_discount)) * HUNDRED


@dataclass(frozen=True)
class ContractValues:
    currency: str
    total: Decimal          # TCV over the term (12 months when evergreen)
    first_year: Decimal     # the first 12 months
    annualised: Decimal     # recurring and usage minimums per year
    monthly_recurring: Decimal


def _window_value(version, line, start: dt.date, end: dt.date) -> Decimal:
    contract_discount = version.discount_percent
    line_start = max(line.start_date or version.start_date, start)
    line_end = min(line.end_date or end, end)
    if line.kind == "recurring":
        monthly = line.quantity * line.unit_price * discount_factor(line.discount_percent, contract_discount)
        months = months_between(line_start, line_end)
        free_months = Decimal(version.free_periods * max(version.MONTHS_PER_PERIOD.get(version.billing_frequency, 1), 1))
        if start == version.start_date:
            months = max(months - free_months, ZERO)
        return monthly * months
    if line.kind == "usage":
        return line.minimum_commitment * months_between(line_start, line_end)
    fee = line.quantity * line.unit_price * discount_factor(line.discount_percent, contract_discount)
    if line.kind == "milestone":
        return fee if line.milestone_date and start <= line.milestone_date <= end else ZERO
    return fee if start <= (line.start_date or version.start_date) <= end else ZERO  # one-time


def contract_values(version, lines=None) -> ContractValues:
    """Values of a version from its lines (pass `lines` to avoid a query)."""
    lines = list(version.lines.all()) if lines is None else list(lines)
    currency = version.currency
    term_end = version.end_date or add_months(version.start_date, 12) - dt.timedelta(days=1)
    year_end = min(term_end, add_months(version.start_date, 12) - dt.timedelta(days=1))
    total = sum((quantize(_window_value(version, line, version.start_date, term_end), currency) for line in lines), ZERO)
    first = sum((quantize(_window_value(version, line, version.start_date, year_end), currency) for line in lines), ZERO)
    monthly = sum(
        (line.quantity * line.unit_price * discount_factor(line.discount_percent, version.discount_percent)
         for line in lines if line.kind == "recurring"), ZERO)
    minimums = sum((line.minimum_commitment for line in lines if line.kind == "usage"), ZERO)
    return ContractValues(
        currency=currency, total=total, first_year=first,
        annualised=quantize((monthly + minimums) * 12, currency), monthly_recurring=quantize(monthly, currency),
    )
