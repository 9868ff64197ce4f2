"""AR KPIs read from the aging snapshots (never a replay of history): one published snapshot per
entity and month (the month-end one; for the running month the latest). Definitions with worked
examples: docs/aging-kpis.md. All amounts in the entity's functional currency.

- total AR: every open amount (documents less unapplied credits and cash), = the control accounts
- receivables: the open debit documents only (what is aged)
- overdue %: receivables past due / receivables; over-90 %: more than 90 days past due / receivables
- DSO (simple): receivables / credit sales of the last 3 months x days in those months
- DSO (count-back): days of the latest months' sales, newest first, that the receivables consume
- best possible DSO: current (not yet due) receivables / sales of the last 3 months x days
- average days delinquent: DSO (simple) - best possible DSO
- CEI: (receivables at the start + sales of the month - receivables at the end)
       / (receivables at the start + sales of the month - current receivables at the end) x 100
- unapplied cash: cash received and not yet applied, as a positive amount
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Max

from customers.models import Customer
from customers.selectors import customers_visible_to
from ledger.models import LegalEntity
from otc import dates
from otc.aggregates import money_sum, money_value
from otc.models import User
from otc.money import ZERO

from ..models import AgingSnapshot, AgingSnapshotLine
from .buckets import parse_buckets

ONE = Decimal("0.1")


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    return (Decimal(100) * part / whole).quantize(ONE, ROUND_HALF_UP) if whole else None


def _days(value: Decimal) -> Decimal:
    return value.quantize(ONE, ROUND_HALF_UP)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_back(day: dt.date, n: int) -> dt.date:
    year, month = day.year, day.month - n
    while month < 1:
        year, month = year - 1, month + 12
    return month_end(dt.date(year, month, 1))


def dso_simple(receivables: Decimal, sales: list[Decimal], days: list[int]) -> Decimal | None:
    total = sum(sales, ZERO)
    return _days(receivables / total * sum(days)) if total > 0 else None


def dso_count_back(receivables: Decimal, sales: list[Decimal], days: list[int]) -> Decimal | None:
    """`sales` and `days` newest month first. Each month's sales the balance covers adds that
    month's days; the month that exhausts it adds its share. None when sales never cover it."""
    left, total = receivables, Decimal(0)
    if left <= 0:
        return Decimal(0)
    for month_sales, month_days in zip(sales, days, strict=True):
        if month_sales <= 0:
            total += month_days
            continue
        if left > month_sales:
            left -= month_sales
            total += month_days
        else:
            return _days(total + left / month_sales * month_days)
    return None


def cei(begin: Decimal, sales: Decimal, end: Decimal, end_current: Decimal) -> Decimal | None:
    denominator = begin + sales - end_current
    return _pct(begin + sales - end, denominator) if denominator > 0 else None


@dataclass
class MonthKpis:
    month: dt.date
    snapshot_id: int | None
    as_of: dt.date | None
    total_ar: Decimal = ZERO
    receivables: Decimal = ZERO
    current: Decimal = ZERO
    overdue: Decimal = ZERO
    over_90: Decimal = ZERO
    unapplied_cash: Decimal = ZERO
    credits: Decimal = ZERO
    sales: Decimal = ZERO
    overdue_pct: Decimal | None = None
    over_90_pct: Decimal | None = None
    dso: Decimal | None = None
    dso_count_back: Decimal | None = None
    best_dso: Decimal | None = None
    add: Decimal | None = None
    cei: Decimal | None = None


@dataclass
class EntityKpis:
    entity: LegalEntity
    months: list[MonthKpis]
    top_overdue: list[dict[str, Any]] = field(default_factory=list)
    movers: list[dict[str, Any]] = field(default_factory=list)
    over_limit: list[dict[str, Any]] = field(default_factory=list)
    concentration_pct: Decimal | None = None
    scoped: bool = False

    @property
    def latest(self) -> MonthKpis | None:
        with_data = [m for m in self.months if m.snapshot_id]
        return with_data[-1] if with_data else None

    @property
    def previous(self) -> MonthKpis | None:
        with_data = [m for m in self.months if m.snapshot_id]
        return with_data[-2] if len(with_data) > 1 else None

    @property
    def currency(self) -> str:
        return self.entity.functional_currency


def _month_snapshots(entity_ids: list[int], first: dt.date, last: dt.date) -> dict[tuple[int, dt.date], AgingSnapshot]:
    """Per entity and month: the published snapshot of the month end, else the month's latest."""
    latest_per_month: dict[tuple[int, dt.date], dt.date] = {}
    rows = (AgingSnapshot.objects.filter(legal_entity_id__in=entity_ids, status=AgingSnapshot.Status.COMPLETE,
                                         as_of__gte=first.replace(day=1), as_of__lte=last)
            .values_list("legal_entity_id", "as_of"))
    for entity_id, as_of in rows:
        key = (entity_id, month_end(as_of))
        if key not in latest_per_month or as_of > latest_per_month[key]:
            latest_per_month[key] = as_of
    wanted = {(e, d) for (e, _), d in latest_per_month.items()}
    snapshots = AgingSnapshot.objects.filter(legal_entity_id__in=entity_ids, status=AgingSnapshot.Status.COMPLETE,
                                             as_of__in={d for _, d in wanted})
    return {(s.legal_entity_id, month_end(s.as_of)): s for s in snapshots if (s.legal_entity_id, s.as_of) in wanted}


def ar_kpis(*, user: User | None, months: int = 12, legal_entity_id: int | None = None,
            as_of: dt.date | None = None, top: int = 10) -> list[EntityKpis]:
    """KPIs per legal entity for the last `months` months up to `as_of` (default today): a
    fixed number of queries whatever the number of customers or months."""
    months = max(1, min(int(months), 36))
    last = month_end(as_of or dates.today())
    first = months_back(last, months - 1 + 3).replace(day=1)  # three more months of sales for DSO
    entities = list(LegalEntity.objects.filter(**({"pk": legal_entity_id} if legal_entity_id else {"is_active": True}))
                    .order_by("code"))
    scoped = user is not None and not user.has_perm("customers.view_all_customers")
    snaps = _month_snapshots([e.id for e in entities], first, last)
    lines = AgingSnapshotLine.objects.filter(snapshot_id__in=[s.id for s in snaps.values()])
    if scoped:
        lines = lines.filter(customer__in=customers_visible_to(user))
    totals: dict[int, dict[tuple[str, int], Decimal]] = {}
    for r in lines.values("snapshot_id", "kind", "bucket").annotate(t=money_sum("functional_amount")).order_by():
        totals.setdefault(r["snapshot_id"], {})[(r["kind"], r["bucket"])] = money_value(r["t"])
    out = []
    for entity in entities:
        series: list[MonthKpis] = []
        for back in range(months - 1 + 3, -1, -1):
            month = months_back(last, back)
            snap = snaps.get((entity.id, month))
            series.append(_month(month, snap, totals.get(snap.id, {}) if snap else {}))
        for i, m in enumerate(series):
            if i < 3 or not m.snapshot_id:
                continue
            window = [series[i - k] for k in range(3)]  # newest first
            sales, days = [w.sales for w in window], [w.month.day if w.as_of is None else
                                                      (w.as_of - w.as_of.replace(day=1)).days + 1 for w in window]
            if not scoped:
                m.dso = dso_simple(m.receivables, sales, days)
                back_sales = [series[i - k].sales for k in range(i + 1)]
                back_days = [(s.as_of - s.as_of.replace(day=1)).days + 1 if s.as_of else s.month.day
                             for s in (series[i - k] for k in range(i + 1))]
                m.dso_count_back = dso_count_back(m.receivables, back_sales, back_days)
                m.best_dso = dso_simple(m.current, sales, days)
                m.add = m.dso - m.best_dso if m.dso is not None and m.best_dso is not None else None
                previous = series[i - 1]
                if previous.snapshot_id:
                    m.cei = cei(previous.receivables, m.sales, m.receivables, m.current)
        block = EntityKpis(entity=entity, months=series[3:], scoped=scoped)
        out.append(block)
    _customers(out, lines, top)
    return out


def _month(month: dt.date, snap: AgingSnapshot | None, sums: dict[tuple[str, int], Decimal]) -> MonthKpis:
    m = MonthKpis(month=month, snapshot_id=snap.id if snap else None, as_of=snap.as_of if snap else None)
    if snap is None:
        return m
    buckets = parse_buckets(snap.buckets)
    for (kind, index), amount in sums.items():
        m.total_ar += amount
        if kind == "debit":
            m.receivables += amount
            bucket = buckets[index]
            if bucket.is_overdue:
                m.overdue += amount
            else:
                m.current += amount
            if bucket.low is not None and bucket.low > 90:
                m.over_90 += amount
        elif kind == "unapplied":
            m.unapplied_cash -= amount
        else:
            m.credits -= amount
    m.sales = Decimal(snap.sales.get("invoiced", "0"))
    m.overdue_pct, m.over_90_pct = _pct(m.overdue, m.receivables), _pct(m.over_90, m.receivables)
    return m


def _customers(blocks: list[EntityKpis], lines, top: int) -> None:
    """Top overdue customers with their movement, biggest movers, customers over their credit
    limit and the top-10 concentration, from the latest and previous snapshot of each entity."""
    wanted: dict[int, tuple[EntityKpis, str]] = {}
    for block in blocks:
        if block.latest:
            wanted[block.latest.snapshot_id] = (block, "now")
        if block.previous:
            wanted[block.previous.snapshot_id] = (block, "before")
    if not wanted:
        return
    overdue_buckets: dict[int, set[int]] = {}
    for snap in AgingSnapshot.objects.filter(pk__in=wanted).only("id", "buckets"):
        overdue_buckets[snap.id] = {i for i, b in enumerate(parse_buckets(snap.buckets)) if b.is_overdue}
    per: dict[tuple[int, str], dict[int, dict[str, Decimal]]] = {}
    rows = (lines.filter(snapshot_id__in=wanted).values("snapshot_id", "customer_id", "kind", "bucket", "currency")
            .annotate(t=money_sum("functional_amount"), a=money_sum("amount")).order_by())
    native: dict[int, dict[str, Decimal]] = {}
    for r in rows:
        block, when = wanted[r["snapshot_id"]]
        c = per.setdefault((block.entity.id, when), {}).setdefault(r["customer_id"], {"total": ZERO, "overdue": ZERO})
        amount = money_value(r["t"])
        c["total"] += amount
        if r["kind"] == "debit" and r["bucket"] in overdue_buckets[r["snapshot_id"]]:
            c["overdue"] += amount
        if when == "now":
            n = native.setdefault(r["customer_id"], {})
            n[r["currency"]] = n.get(r["currency"], ZERO) + money_value(r["a"])
    ids = {cid for d in per.values() for cid in d}
    customers = Customer.objects.in_bulk(ids)
    for block in blocks:
        now, before = per.get((block.entity.id, "now"), {}), per.get((block.entity.id, "before"), {})

        def entry(cid: int, now=now, before=before) -> dict[str, Any]:
            c = customers[cid]
            n, b = now.get(cid, {"total": ZERO, "overdue": ZERO}), before.get(cid, {"total": ZERO, "overdue": ZERO})
            return {"customer": c, "total": n["total"], "overdue": n["overdue"], "total_before": b["total"],
                    "overdue_before": b["overdue"], "change": n["total"] - b["total"],
                    "overdue_change": n["overdue"] - b["overdue"]}

        block.top_overdue = [entry(cid) for cid, _ in sorted(((cid, v) for cid, v in now.items() if v["overdue"] > 0),
                                                              key=lambda kv: -kv[1]["overdue"])[:top]]
        block.movers = sorted((entry(cid) for cid in set(now) | set(before)), key=lambda e: -abs(e["change"]))[:top]
        block.movers = [m for m in block.movers if m["change"]]
        positive = sorted((v["total"] for v in now.values() if v["total"] > 0), reverse=True)
        whole = sum(positive, ZERO)
        block.concentration_pct = _pct(sum(positive[:10], ZERO), whole)
        block.over_limit = []
        for cid in now:
            c = customers[cid]
            balance = native.get(cid, {}).get(c.default_currency, ZERO)
            if c.credit_limit is not None and balance > c.credit_limit:
                block.over_limit.append({"customer": c, "balance": balance, "currency": c.default_currency,
                                         "limit": c.credit_limit, "excess": balance - c.credit_limit})
        block.over_limit.sort(key=lambda e: -e["excess"])


def latest_snapshot_date() -> dt.date | None:
    return AgingSnapshot.objects.filter(status=AgingSnapshot.Status.COMPLETE).aggregate(d=Max("as_of"))["d"]
