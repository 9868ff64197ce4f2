"""What a contract bills in a month's billing run: pure computation, no database.

The rule for the run of month M (`month` = the first day of M; the beat runs it on that day):

* **Recurring, in advance**: the billing period that *starts* in M (service M .. end of period).
* **Recurring, in arrears**: the billing period whose service *ended* in M-1: the period ends on
  the last day of M-1, or the contract ended (end date or termination) during M-1 inside it.
  So the run on 1 November bills November's advance fees and October's arrears, never a period
  that is not over yet.
* **Usage**: the usage of M-1 (metered usage is only complete after the month), at the rate of the
  version in force at the end of that usage, billed as max(usage x rate, minimum commitment).
  The minimum is per month and is prorated by days when the line covers part of the month.
* **Milestones**: those dated in M-1 (achieved by the time the run starts).
* **One-time fees**: with the first period: advance -> the run of the month of the fee's date
  (the line's start, else the contract's); arrears -> the run billing the period containing it.

Billing periods are calendar months grouped by frequency from the contract's start month
(quarters, half-years and years are whole calendar months counted from that month). A partial
period is prorated by days used / days in that period, e.g. a 3,100.00 monthly fee from
2026-03-10 bills 22/31 x 3,100.00 = 2,200.00 for March; for a quarter the days of the whole
quarter are the denominator. The first `free_periods` periods of the grid (the first one
possibly partial) bill at zero: the line is shown with a zero price, not omitted.

Amendments: each version is a *slice* from its effective date to the day before its successor's
effective date (and never beyond its end date or the contract's termination date, which is the
last day billed). A line (by its stable `line_key`) is billed once per period per slice, so an
amendment mid-period gives two lines with the same key, each for its own days.

Amounts: unit price per period = monthly price x months in the period x the day fraction; the
discount is the line's then the contract's, multiplied; the net is quantity x the UNROUNDED unit
price x (1 - discount), rounded ONCE per line to the currency's minor unit (ROUND_HALF_UP). The
unit price printed and stored is kept to the four storage places, so on a prorated line
quantity x printed price may differ from the net by the rounding of the price (200 seats x 45.00
x 12/31 less 10% bills 3,135.48, where 200 x 17.4194 x 0.9 would give 3,135.49). The run stores
this net as it is and computes the tax from it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from typing import Any

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

from contracts.values import add_months, effective_discount_percent
from otc.money import ZERO, format_amount, quantize

HUNDRED = Decimal(100)
STORAGE = Decimal("0.0001")
MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "semi_annual": 6, "annual": 12, "one_time": 0}
ADVANCE, ARREARS = "advance", "arrears"
FAR_FUTURE = dt.date.max


# --- dates ------------------------------------------------------------------------------------

def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def days(start: dt.date, end: dt.date) -> int:
    """Days from start to end inclusive (0 when end is before start)."""
    return max((end - start).days + 1, 0)


@dataclass(frozen=True)
class Period:
    index: int          # 0 for the period containing the contract's start
    start: dt.date      # first day of a calendar month
    end: dt.date        # last day of a calendar month

    @property
    def days(self) -> int:
        return days(self.start, self.end)


def period_containing(anchor: dt.date, months: int, day: dt.date) -> Period | None:
    """The billing period of a grid of `months`-month periods anchored on `anchor`'s month that
    contains `day` (None before the anchor month)."""
    offset = month_index(day) - month_index(anchor)
    if offset < 0 or months <= 0:
        return None
    index = offset // months
    start = add_months(month_start(anchor), index * months)
    return Period(index, start, add_months(start, months) - dt.timedelta(days=1))


def _overlap(a_start: dt.date, a_end: dt.date, b_start: dt.date, b_end: dt.date) -> tuple[dt.date, dt.date] | None:
    start, end = max(a_start, b_start), min(a_end, b_end)
    return (start, end) if start <= end else None


# --- input and output -------------------------------------------------------------------------

@dataclass(frozen=True)
class LineTerms:
    line_key: Any
    kind: str                       # recurring | usage | one_time | milestone
    name: str
    unit_price: Decimal             # recurring: per month; usage: per unit; one-time/milestone: the fee
    quantity: Decimal = Decimal(1)
    discount_percent: Decimal = ZERO
    minimum_commitment: Decimal = ZERO
    milestone_date: dt.date | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    product_id: int | None = None
    unit: str = "C62"
    unit_label: str = "units"
    position: int = 0


@dataclass(frozen=True)
class VersionSlice:
    """A contract version's terms and the days it is in force (`effective_from`..`effective_to`)."""

    currency: str
    start_date: dt.date
    end_date: dt.date | None
    effective_from: dt.date
    effective_to: dt.date | None
    lines: tuple[LineTerms, ...]
    billing_frequency: str = "monthly"
    billing_timing: str = ADVANCE
    discount_percent: Decimal = ZERO
    free_periods: int = 0
    version_id: int | None = None


@dataclass(frozen=True)
class LineSpec:
    line_key: Any
    kind: str
    product_id: int | None
    description: str
    service_start: dt.date
    service_end: dt.date
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    net: Decimal
    unit: str = "C62"
    version_id: int | None = None


@dataclass
class MonthBill:
    currency: str
    lines: list[LineSpec] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)   # (code, message)

    @property
    def net_total(self) -> Decimal:
        return sum((line.net for line in self.lines), ZERO)


def _net(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, currency: str) -> Decimal:
    return quantize(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED, currency)


def _storage(amount: Decimal) -> Decimal:
    return amount.quantize(STORAGE, rounding=ROUND_HALF_UP)


def _fmt_qty(quantity: Decimal) -> str:
    return f"{quantity.normalize():,f}"


@lru_cache(maxsize=4096)  # a run's lines share a few dozen periods: strftime once per pair, not per line
def _period_text(start: dt.date, end: dt.date) -> str:
    return f"{start:%d %b %Y} - {end:%d %b %Y}"


# --- slices from models -----------------------------------------------------------------------

@cache
def _unit_labels(model: type) -> dict[Any, Any]:
    return dict(make_hashable(model._meta.get_field("unit").flatchoices))


def _unit_label(product: Any) -> str:
    """`product.get_unit_display()`, with the field's choices made into a dict once per model:
    Django builds that dict again on every call (7,500 calls per 5,000 contracts of a run)."""
    labels = _unit_labels(type(product))
    return force_str(labels.get(make_hashable(product.unit), product.unit), strings_only=True)


def slices_from_versions(versions: Iterable[Any], lines_by_version: Mapping[int, Iterable[Any]] | None = None,
                         ) -> list[VersionSlice]:
    """Slices from ContractVersion-like objects (sorted by version number): each runs from its
    effective date to the day before the next version's effective date. Pass `lines_by_version`
    (version id -> ContractLine-like objects with `.product`) to avoid queries."""
    ordered = sorted(versions, key=lambda v: v.version)
    slices = []
    for i, version in enumerate(ordered):
        successor = ordered[i + 1] if i + 1 < len(ordered) else None
        to = successor.effective_date - dt.timedelta(days=1) if successor else None
        raw = lines_by_version.get(version.id, ()) if lines_by_version is not None else version.lines.all()
        lines = tuple(
            LineTerms(
                line_key=line.line_key, kind=line.kind,
                name=line.description or (line.product.name if line.product_id else ""),
                unit_price=line.unit_price, quantity=line.quantity, discount_percent=line.discount_percent,
                minimum_commitment=line.minimum_commitment, milestone_date=line.milestone_date,
                start_date=line.start_date, end_date=line.end_date, product_id=line.product_id,
                unit=line.product.unit if line.product_id else "C62",
                unit_label=(_unit_label(line.product) if line.product_id else "units"),
                position=line.position,
            )
            for line in sorted(raw, key=lambda x: (x.position, x.pk or 0))
        )
        slices.append(VersionSlice(
            currency=version.currency, start_date=version.start_date, end_date=version.end_date,
            effective_from=version.effective_date, effective_to=to, lines=lines,
            billing_frequency=version.billing_frequency, billing_timing=version.billing_timing,
            discount_percent=version.discount_percent, free_periods=version.free_periods, version_id=version.id,
        ))
    return slices


# --- the month's bill -------------------------------------------------------------------------

def bill_month(*, slices: list[VersionSlice], month: dt.date, usage: Mapping[Any, Decimal] | None = None,
               terminated_on: dt.date | None = None) -> MonthBill:
    """The invoice lines a contract bills in the run of `month` (rules in the module docstring).
    `usage` maps a usage line's key to its total quantity for the previous month (a key missing
    means no usage was reported: a warning, and the minimum commitment alone is billed)."""
    if not slices:
        return MonthBill(currency="")
    usage = usage or {}
    month = month_start(month)
    prev = add_months(month, -1)
    prev_end = month - dt.timedelta(days=1)
    ordered = sorted(slices, key=lambda s: s.effective_from)
    currency = ordered[-1].currency
    anchor = min(s.start_date for s in ordered)
    contract_end = min(ordered[-1].end_date or FAR_FUTURE, terminated_on or FAR_FUTURE)
    bill = MonthBill(currency=currency)

    def window(s: VersionSlice) -> tuple[dt.date, dt.date] | None:
        return _overlap(max(s.effective_from, s.start_date), min(s.effective_to or FAR_FUTURE, s.end_date or FAR_FUTURE),
                        anchor, contract_end)

    def line_window(s: VersionSlice, line: LineTerms, w: tuple[dt.date, dt.date]) -> tuple[dt.date, dt.date] | None:
        return _overlap(line.start_date or s.start_date, line.end_date or FAR_FUTURE, *w)

    def billed_in_this_run(s: VersionSlice, period: Period) -> bool:
        if s.billing_timing == ARREARS:
            end = min(period.end, contract_end)
            return prev <= end <= prev_end
        return period.start == month

    def discount(s: VersionSlice, line: LineTerms) -> Decimal:
        return effective_discount_percent(line.discount_percent, s.discount_percent).normalize()

    # recurring fees, per slice
    for s in ordered:
        w = window(s)
        months = MONTHS_PER_PERIOD.get(s.billing_frequency, 1)
        if w is None or months == 0:
            continue
        probe = prev_end if s.billing_timing == ARREARS else month
        period = period_containing(anchor, months, probe)
        if period is None or not billed_in_this_run(s, period):
            continue
        for line in s.lines:
            if line.kind != "recurring":
                continue
            lw = line_window(s, line, w)
            service = lw and _overlap(*lw, period.start, period.end)
            if not service:
                continue
            used = days(*service)
            free = period.index < s.free_periods
            exact_price = ZERO if free else line.unit_price * months * used / period.days
            unit_price = _storage(exact_price)
            disc = discount(s, line)
            text = f"{line.name}, {_period_text(*service)}"
            if used != period.days:
                text += f" ({used}/{period.days} days)"
            if free:
                text += " - free period"
            bill.lines.append(LineSpec(
                line_key=line.line_key, kind=line.kind, product_id=line.product_id, description=text[:255],
                service_start=service[0], service_end=service[1], quantity=line.quantity, unit_price=unit_price,
                discount_percent=disc, net=_net(line.quantity, exact_price, disc, currency), unit=line.unit,
                version_id=s.version_id,
            ))

    # usage of the previous month, once per line key
    usage_lines: dict[Any, tuple[VersionSlice, LineTerms, dt.date, dt.date]] = {}
    for s in ordered:
        w = window(s)
        if w is None:
            continue
        for line in s.lines:
            if line.kind != "usage":
                continue
            lw = line_window(s, line, w)
            service = lw and _overlap(*lw, prev, prev_end)
            if not service:
                continue
            seen = usage_lines.get(line.line_key)
            start = min(seen[2], service[0]) if seen else service[0]
            usage_lines[line.line_key] = (s, line, start, max(seen[3], service[1]) if seen else service[1])
    for key, (s, line, start, end) in usage_lines.items():
        disc = discount(s, line)
        reported = usage.get(key)
        if reported is None:
            bill.warnings.append(("usage_missing", f"{line.name}: no usage reported for {prev:%B %Y}."))
        quantity = reported if reported is not None else ZERO
        exact_minimum = line.minimum_commitment * days(start, end) / days(prev, prev_end)
        minimum = _storage(exact_minimum)
        label = f"usage {_fmt_qty(quantity)} {line.unit_label}"
        if line.minimum_commitment and quantity * line.unit_price < minimum:
            text = f"{line.name}, {_period_text(start, end)}: {label}, minimum {format_amount(minimum, currency)} applies"
            qty, price, exact = Decimal(1), minimum, exact_minimum
        else:
            text = f"{line.name}, {_period_text(start, end)}: {label}"
            qty, price, exact = quantity, line.unit_price, line.unit_price
        bill.lines.append(LineSpec(
            line_key=key, kind=line.kind, product_id=line.product_id, description=text[:255], service_start=start,
            service_end=end, quantity=qty, unit_price=price, discount_percent=disc,
            net=_net(qty, exact, disc, currency), unit=line.unit, version_id=s.version_id,
        ))

    # milestones dated in the previous month and one-time fees with their first period
    done: set[Any] = set()
    for s in ordered:
        w = window(s)
        if w is None:
            continue
        months = MONTHS_PER_PERIOD.get(s.billing_frequency, 1) or 1
        for line in s.lines:
            if line.kind not in ("milestone", "one_time") or line.line_key in done:
                continue
            lw = line_window(s, line, w)
            if lw is None:
                continue
            if line.kind == "milestone":
                on = line.milestone_date
                if on is None or not (lw[0] <= on <= lw[1]):
                    continue
                due = prev <= on <= prev_end
            else:
                on = lw[0]  # the fee's date (line start, else contract start), or when its slice begins
                if s.billing_timing == ARREARS:
                    period = period_containing(anchor, months, on)
                    due = period is not None and prev <= min(period.end, contract_end) <= prev_end
                else:
                    due = month_start(on) == month
            done.add(line.line_key)
            if not due:
                continue
            disc = discount(s, line)
            label = "milestone" if line.kind == "milestone" else "one-time fee"
            bill.lines.append(LineSpec(
                line_key=line.line_key, kind=line.kind, product_id=line.product_id,
                description=f"{line.name}, {label} {on:%d %b %Y}"[:255], service_start=on, service_end=on,
                quantity=line.quantity, unit_price=line.unit_price, discount_percent=disc,
                net=_net(line.quantity, line.unit_price, disc, currency), unit=line.unit, version_id=s.version_id,
            ))
    return bill
