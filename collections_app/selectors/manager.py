"""The collections manager's view: portfolio per collector (customers, open, overdue, what needs
doing), promised against collected this month, the promise kept-rate, and the overdue trend per
collector read from the aging snapshots (the month's last published snapshot per entity; the
collector is today's assignment of each snapshot line's customer)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Q, Sum

from otc import dates
from otc.models import User
from otc.money import ZERO

from ..models import AssignmentRule, Dispute, PromiseStatus, PromiseToPay
from ..models.disputes import OPEN_DISPUTE_STATUSES
from ..services.promises import kept_rates
from .worklist import worklist

TREND_MONTHS = 9


def _names(ids: set) -> dict[Any, str]:
    users = User.objects.filter(pk__in={i for i in ids if i}).values_list("pk", "first_name", "last_name", "username")
    out: dict[Any, str] = {pk: f"{first} {last}".strip() or username for pk, first, last, username in users}
    out[None] = "(no collector)"
    return out


def overdue_trend(*, months: int = TREND_MONTHS) -> dict[str, Any]:
    """{"dates": [as_of...], "series": {(collector name, functional currency): [overdue per date]}}."""
    from receivables.models import AgingSnapshot, AgingSnapshotLine

    complete = AgingSnapshot.objects.filter(status=AgingSnapshot.Status.COMPLETE)
    month_ends = (complete.values("as_of__year", "as_of__month").annotate(last=Max("as_of"))
                  .order_by("-as_of__year", "-as_of__month")[:months])
    chosen = sorted(row["last"] for row in month_ends)
    rows = (AgingSnapshotLine.objects.filter(snapshot__in=complete.filter(as_of__in=chosen),
                                             kind=AgingSnapshotLine.Kind.DEBIT, bucket__gt=0)
            .values(snap_as_of=F("snapshot__as_of"), functional=F("snapshot__functional_currency"),
                    collector=F("customer__collections_portfolio__collector_id"))
            .annotate(total=Sum("functional_amount")))
    names = _names({r["collector"] for r in rows})
    series: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO] * len(chosen))
    index = {d: i for i, d in enumerate(chosen)}
    for r in rows:
        series[(names.get(r["collector"], "?"), r["functional"])][index[r["snap_as_of"]]] += r["total"] or ZERO
    return {"dates": chosen, "series": [{"collector": k[0], "currency": k[1], "values": v}
                                        for k, v in sorted(series.items())]}


def manager_overview(*, user: User, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dates.today()
    month_start = today.replace(day=1)
    rows = worklist(user=user, everyone=True, today=today)
    per: dict[Any, dict[str, Any]] = defaultdict(lambda: {"customers": 0, "open": ZERO, "overdue": ZERO, "to_do": 0,
                                                          "disputes": 0, "promised_open": ZERO})
    currency = rows[0].currency if rows else ""
    for r in rows:
        p = per[r.collector_id]
        p["name"] = r.collector_name or "(no collector)"
        p["customers"] += 1
        p["open"] += r.open_total
        p["overdue"] += r.overdue
        p["to_do"] += 1 if r.score > 0 else 0
        p["disputes"] += r.disputes_open
        p["promised_open"] += r.promised
    this_month = (PromiseToPay.objects.filter(promised_date__gte=month_start, promised_date__lte=today)
                  .exclude(status=PromiseStatus.CANCELLED)
                  .values("taken_by_id", "currency")
                  .annotate(promised=Sum("amount"), collected=Sum("paid_amount"),
                            kept=Count("pk", filter=Q(status=PromiseStatus.KEPT)),
                            broken=Count("pk", filter=Q(status=PromiseStatus.BROKEN))))
    names = _names({r["taken_by_id"] for r in this_month} | set(per))
    rates = kept_rates(by="collector")
    return {
        "currency": currency, "month_start": month_start, "today": today,
        "portfolios": sorted(({"collector_id": k, **v, "kept_rate": rates.get(k, {}).get("rate")}
                              for k, v in per.items()), key=lambda p: p["name"]),
        "promised_vs_collected": [{"collector": names.get(r["taken_by_id"], "?"), **r} for r in this_month],
        "trend": overdue_trend(),
        "dispute_ageing": dispute_ageing(today=today),
        "rules": list(AssignmentRule.objects.select_related("collector", "legal_entity").filter(is_active=True)),
    }


#: Age bands of open disputes, in days since they were opened.
DISPUTE_AGES = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("over 90", 91, None))


def dispute_ageing(*, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Open disputes per owner and currency: how many and how much in each age band (days since
    opened), and how many are past the date their owner should have resolved them. One query."""
    today = today or dates.today()
    opened = Dispute.objects.filter(status__in=OPEN_DISPUTE_STATUSES)
    bands: dict[str, Any] = {}
    for n, (_key, low, high) in enumerate(DISPUTE_AGES):
        window = Q(opened_at__date__lte=today - dt.timedelta(days=low))
        if high is not None:
            window &= Q(opened_at__date__gte=today - dt.timedelta(days=high))
        bands[f"n_{n}"] = Count("pk", filter=window)
        bands[f"a_{n}"] = Sum("amount", filter=window)
    rows: list[dict[str, Any]] = [dict(row) for row in (
        opened.values("owner_id", "currency")
        .annotate(count=Count("pk"), total=Sum("amount"), late=Count("pk", filter=Q(due_date__lt=today)), **bands)
        .order_by("owner_id", "currency"))]
    names = _names({r["owner_id"] for r in rows})
    return [{"owner": names.get(r["owner_id"], "(no owner)") if r["owner_id"] else "(no owner)",
             "currency": r["currency"], "count": r["count"], "total": r["total"], "late": r["late"],
             "bands": [(key, r[f"n_{n}"], r[f"a_{n}"] or ZERO) for n, (key, _, _) in enumerate(DISPUTE_AGES)]}
            for r in rows]
