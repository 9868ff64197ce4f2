"""The collector's worklist and the customer's collections summary and timeline.

The worklist is built from a fixed number of aggregate queries whatever the number of customers
(open items by customer, currency and age bucket; open disputes; promises; the customers with
their collector and last activity; one FX rate per currency), then ranked in Python on those
per-customer rows by an explained priority score (weights in `conf_worklist`):

- overdue, weighted by age (1-30 x1, 31-60 x1.5, 61-90 x2, over 90 x3) per 1,000 of the reporting
  currency, times the risk rating's factor (low 1, medium 1.25, high 1.5), capped;
- promises due (open, date reached) and promises broken in the last 30 days;
- open disputes ageing (older than 14 days or past their due date);
- days since the last contact (call, e-mail, meeting), for customers with something overdue;
- the credit limit exceeded by the open balance; the next action's date reached.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum

from customers.models import Customer
from customers.selectors import customers_visible_to
from ledger.models import OpenItem
from otc import dates
from otc.errors import DomainError
from otc.models import User
from otc.money import ZERO, quantize

from .. import conf_worklist as conf
from ..models import Activity, ActivityKind, CollectorAssignment, Dispute, PromiseStatus, PromiseToPay
from ..models.disputes import OPEN_DISPUTE_STATUSES
from .agency import placed_open_items

BUCKETS = ("1-30", "31-60", "61-90", "over 90")
CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING)


@dataclass
class Reason:
    label: str
    points: Decimal


@dataclass
class WorklistRow:
    customer_id: int
    name: str
    number: str
    country: str
    risk: str
    credit_limit: Decimal
    collector_id: int | None = None
    collector_name: str = ""
    currency: str = "EUR"  # the reporting currency of the amounts below
    open_total: Decimal = ZERO
    buckets: list[Decimal] = field(default_factory=lambda: [ZERO] * len(BUCKETS))
    by_currency: dict[str, Decimal] = field(default_factory=dict)  # overdue in document currencies
    disputes_open: int = 0
    disputed: Decimal = ZERO
    disputes_ageing: int = 0
    promises_open: int = 0
    promised: Decimal = ZERO
    promises_due: int = 0
    promises_broken: int = 0
    next_promise: dt.date | None = None
    last_contact_at: dt.datetime | None = None
    last_contact_kind: str = ""
    last_outcome: str = ""
    next_action: str = ""
    next_action_date: dt.date | None = None
    score: Decimal = ZERO
    reasons: list[Reason] = field(default_factory=list)

    @property
    def overdue(self) -> Decimal:
        return sum(self.buckets, ZERO)

    @property
    def explanation(self) -> str:
        return "; ".join(f"{r.label}: {r.points}" for r in self.reasons)


@dataclass(frozen=True)
class WorklistFilters:
    collector: str = "all"  # "all", "none" (unassigned) or a user id
    legal_entity_id: int | None = None
    risk: str = ""
    search: str = ""
    only: str = ""  # "", "broken", "promises_due", "disputes", "next_action"
    min_score: Decimal | None = None


def _rates(currencies: set[str], to: str, on: dt.date) -> dict[str, Decimal]:
    from ledger.services.rates import fx_rate_for

    out = {}
    for currency in currencies:
        try:
            out[currency] = fx_rate_for(from_currency=currency, to_currency=to, on=on)
        except DomainError:
            out[currency] = Decimal(1)  # no rate: counted at par (shown in the row's own currency too)
    return out


def _age_q(i: int, today: dt.date) -> Q:
    edges = [(1, 30), (31, 60), (61, 90), (91, None)][i]
    q = Q(due_date__lte=today - dt.timedelta(days=edges[0]))
    if edges[1] is not None:
        q &= Q(due_date__gte=today - dt.timedelta(days=edges[1]))
    return q


def _customers(user: User, filters: WorklistFilters) -> QuerySet[Customer]:
    qs = customers_visible_to(user)
    if filters.collector == "none":
        qs = qs.filter(Q(collections_portfolio__isnull=True) | Q(collections_portfolio__collector__isnull=True))
    elif filters.collector not in ("all", ""):
        qs = qs.filter(collections_portfolio__collector_id=int(filters.collector))
    if filters.risk:
        qs = qs.filter(risk_rating=filters.risk)
    if filters.search:
        qs = qs.filter(Q(legal_name__icontains=filters.search) | Q(display_name__icontains=filters.search)
                       | Q(account_number__icontains=filters.search))
    return qs


def _latest(field_name: str, *, contacts_only: bool) -> Subquery:
    rows = Activity.objects.filter(customer_id=OuterRef("pk"))
    rows = rows.filter(kind__in=CONTACT_KINDS) if contacts_only else rows.exclude(kind=ActivityKind.STATEMENT)
    return Subquery(rows.order_by("-at", "-id").values(field_name)[:1])


def worklist(*, user: User, filters: WorklistFilters | None = None, today: dt.date | None = None,
             everyone: bool = False) -> list[WorklistRow]:
    """Customers with something to do today, highest priority first. `everyone` keeps customers
    with nothing to do (the manager's portfolio view)."""
    filters = filters or WorklistFilters()
    today = today or dates.today()
    reporting = conf.get("COLLECTIONS_REPORTING_CURRENCY")
    scope = _customers(user, filters)
    items = OpenItem.objects.filter(customer__in=scope, open_amount__gt=0)
    items = items.exclude(pk__in=placed_open_items())  # placed with an agency or legal: the agency chases them (i10b)
    disputes = Dispute.objects.filter(customer__in=scope, status__in=OPEN_DISPUTE_STATUSES)
    promises = PromiseToPay.objects.filter(customer__in=scope)
    if filters.legal_entity_id:
        items = items.filter(legal_entity_id=filters.legal_entity_id)
        disputes = disputes.filter(legal_entity_id=filters.legal_entity_id)
        promises = promises.filter(legal_entity_id=filters.legal_entity_id)
    # the bucket sums' names (b0..b3) are built at run time: the rows are typed as plain mappings
    item_rows: list[Mapping[str, Any]] = list(items.values("customer_id", "currency").annotate(
        open=Sum("open_amount"),
        **{f"b{i}": Sum("open_amount", filter=_age_q(i, today)) for i in range(len(BUCKETS))}))
    dispute_age = today - dt.timedelta(days=conf.get("COLLECTIONS_DISPUTE_AGE_DAYS"))
    dispute_rows = list(disputes.values("customer_id", "currency").annotate(
        n=Count("pk"), amount=Sum("amount"),
        ageing=Count("pk", filter=Q(opened_at__date__lt=dispute_age) | Q(due_date__lt=today))))
    broken_since = dates.now() - dt.timedelta(days=conf.get("COLLECTIONS_PROMISE_BROKEN_DAYS"))
    promise_rows = list(promises.filter(Q(status=PromiseStatus.OPEN) | Q(status=PromiseStatus.BROKEN,
                                                                        decided_at__gte=broken_since))
                        .values("customer_id", "currency").annotate(
        n=Count("pk", filter=Q(status=PromiseStatus.OPEN)),
        amount=Sum("amount", filter=Q(status=PromiseStatus.OPEN)),
        due=Count("pk", filter=Q(status=PromiseStatus.OPEN, promised_date__lte=today)),
        broken=Count("pk", filter=Q(status=PromiseStatus.BROKEN))))
    candidates = {r["customer_id"] for r in item_rows} | {r["customer_id"] for r in dispute_rows} | {
        r["customer_id"] for r in promise_rows}
    customers = scope.annotate(
        last_contact_at=_latest("at", contacts_only=True), last_contact_kind=_latest("kind", contacts_only=True),
        last_outcome=_latest("outcome", contacts_only=True), next_action_text=_latest("next_action", contacts_only=False),
        next_action_on=_latest("next_action_date", contacts_only=False),
    ).select_related("collections_portfolio__collector")
    if not everyone:
        customers = customers.filter(Q(pk__in=candidates) | Q(next_action_on__lte=today))
    rows: dict[int, WorklistRow] = {}
    for c in customers.order_by("pk"):
        portfolio = getattr(c, "collections_portfolio", None)
        collector = portfolio.collector if portfolio is not None else None
        rows[c.pk] = WorklistRow(
            customer_id=c.pk, name=c.display_name or c.legal_name, number=c.account_number, country=c.country,
            risk=c.risk_rating, credit_limit=c.credit_limit or ZERO, collector_id=collector.pk if collector else None,
            collector_name=(collector.get_full_name() or collector.username) if collector else "", currency=reporting,
            last_contact_at=c.last_contact_at, last_contact_kind=c.last_contact_kind or "",
            last_outcome=c.last_outcome or "", next_action=c.next_action_text or "", next_action_date=c.next_action_on)
    currencies = {r["currency"] for r in item_rows} | {r["currency"] for r in dispute_rows} | {
        r["currency"] for r in promise_rows}
    rates = _rates(currencies, reporting, today)

    def conv(amount: Decimal | None, currency: str) -> Decimal:
        return quantize((amount or ZERO) * rates.get(currency, Decimal(1)), reporting)

    for r in item_rows:
        row = rows.get(r["customer_id"])
        if row is None:
            continue
        row.open_total += conv(r["open"], r["currency"])
        overdue_doc = ZERO
        for i in range(len(BUCKETS)):
            row.buckets[i] += conv(r[f"b{i}"], r["currency"])
            overdue_doc += r[f"b{i}"] or ZERO
        if overdue_doc:
            row.by_currency[r["currency"]] = row.by_currency.get(r["currency"], ZERO) + overdue_doc
    for dispute in dispute_rows:
        row = rows.get(dispute["customer_id"])
        if row is not None:
            row.disputes_open += dispute["n"]
            row.disputes_ageing += dispute["ageing"]
            row.disputed += conv(dispute["amount"], dispute["currency"])
    for promise in promise_rows:
        row = rows.get(promise["customer_id"])
        if row is not None:
            row.promises_open += promise["n"]
            row.promises_due += promise["due"]
            row.promises_broken += promise["broken"]
            row.promised += conv(promise["amount"], promise["currency"])
    out = [row for row in rows.values() if _score(row, today) or everyone]
    out = [row for row in out if _keep(row, filters)]
    out.sort(key=lambda row: (-row.score, -row.overdue, row.name))
    return out


def _keep(row: WorklistRow, filters: WorklistFilters) -> bool:
    if filters.min_score is not None and row.score < filters.min_score:
        return False
    return {"": True, "broken": row.promises_broken > 0, "promises_due": row.promises_due > 0,
            "disputes": row.disputes_open > 0,
            "next_action": row.next_action_date is not None and row.next_action_date <= dates.today()}.get(
        filters.only, True)


def _score(row: WorklistRow, today: dt.date) -> bool:
    """Fill the row's score and its reasons; True when there is something to do today."""
    weights = conf.get("COLLECTIONS_AGE_WEIGHTS")
    risk = Decimal(conf.get("COLLECTIONS_RISK_FACTORS").get(row.risk, 1))
    reasons: list[Reason] = []
    weighted = sum((amount * Decimal(weights[label]) for label, amount in zip(BUCKETS, row.buckets, strict=True)), ZERO)
    if row.overdue > 0:
        points = min(weighted / 1000 * risk, Decimal(conf.get("COLLECTIONS_OVERDUE_POINTS_CAP")))
        reasons.append(Reason(f"Overdue {row.overdue:,.2f} {row.currency} weighted by age "
                              f"({weighted:,.2f}) x risk {row.risk} {risk}", points))
    if row.promises_due:
        reasons.append(Reason(f"{row.promises_due} promise(s) due", Decimal(row.promises_due * conf.get(
            "COLLECTIONS_PROMISE_DUE_POINTS"))))
    if row.promises_broken:
        reasons.append(Reason(f"{row.promises_broken} promise(s) broken lately", Decimal(min(
            row.promises_broken, 2) * conf.get("COLLECTIONS_PROMISE_BROKEN_POINTS"))))
    if row.disputes_ageing:
        reasons.append(Reason(f"{row.disputes_ageing} dispute(s) ageing", Decimal(min(row.disputes_ageing, 3) * conf.get(
            "COLLECTIONS_DISPUTE_POINTS"))))
    if row.overdue > 0:
        cap = Decimal(conf.get("COLLECTIONS_CONTACT_POINTS_MAX"))
        if row.last_contact_at is None:
            reasons.append(Reason("Never contacted", cap))
        else:
            days = (today - row.last_contact_at.date()).days
            if days >= 3:
                reasons.append(Reason(f"{days} days since the last contact", min(Decimal(days) / 3, cap)))
    if row.credit_limit and row.open_total > row.credit_limit:
        reasons.append(Reason(f"Open {row.open_total:,.2f} over the credit limit {row.credit_limit:,.2f}",
                              Decimal(conf.get("COLLECTIONS_OVER_LIMIT_POINTS"))))
    if row.next_action_date is not None and row.next_action_date <= today:
        reasons.append(Reason(f"Next action due {row.next_action_date:%Y-%m-%d}",
                              Decimal(conf.get("COLLECTIONS_NEXT_ACTION_POINTS"))))
    row.reasons = [Reason(r.label, quantize(r.points, "EUR")) for r in reasons]
    row.score = sum((r.points for r in row.reasons), ZERO)
    return row.score > 0


# --- one customer ---------------------------------------------------------------------------------

def customer_summary(*, customer_id: int, today: dt.date | None = None) -> dict[str, Any]:
    """The customer's open invoices with what is disputed and promised on each, overdue by bucket
    per currency, its collector, open disputes and promises, next action."""
    from billing.models import Invoice

    from .exclusions import disputed_amounts, promised_amounts

    today = today or dates.today()
    invoices = list(Invoice.objects.filter(customer_id=customer_id, status__in=("issued", "partially_paid"))
                    .select_related("legal_entity").order_by("due_date", "pk"))
    ids = [i.pk for i in invoices]
    disputed, promised = disputed_amounts(invoice_ids=ids), promised_amounts(invoice_ids=ids, as_of=today)
    rows: list[dict[str, Any]] = []
    totals: defaultdict[str, dict[str, Any]] = defaultdict(lambda: {
        "open": ZERO, "overdue": ZERO, "disputed": ZERO, "promised": ZERO, "collectible": ZERO,
        "buckets": [ZERO] * len(BUCKETS)})
    for invoice in invoices:
        balance = invoice.balance_due
        days = (today - invoice.due_date).days if invoice.due_date else 0
        d, p = disputed.get(invoice.pk, ZERO), promised.get(invoice.pk, ZERO)
        collectible = max(balance - d - p, ZERO)
        rows.append({"invoice": invoice, "balance": balance, "days_overdue": max(days, 0), "disputed": d,
                     "promised": p, "collectible": collectible})
        t = totals[invoice.currency]
        t["open"] += balance
        t["disputed"] += d
        t["promised"] += p
        t["collectible"] += collectible
        if days > 0:
            t["overdue"] += balance
            t["buckets"][0 if days <= 30 else 1 if days <= 60 else 2 if days <= 90 else 3] += balance
    for t in totals.values():
        t["pairs"] = list(zip(BUCKETS, t["buckets"], strict=True))
    assignment = (CollectorAssignment.objects.filter(customer_id=customer_id).select_related("collector", "rule")
                  .first())
    last = (Activity.objects.filter(customer_id=customer_id).exclude(kind=ActivityKind.STATEMENT)
            .order_by("-at", "-id").first())
    return {
        "invoices": rows, "totals": dict(totals), "bucket_labels": BUCKETS, "assignment": assignment,
        "disputes": list(Dispute.objects.filter(customer_id=customer_id, status__in=OPEN_DISPUTE_STATUSES)
                         .select_related("invoice", "owner", "credit_note").order_by("opened_at")),
        "promises": list(PromiseToPay.objects.filter(customer_id=customer_id, status=PromiseStatus.OPEN)
                         .prefetch_related("items__invoice").order_by("promised_date", "pk")),
        "next_action": last.next_action if last else "", "next_action_date": last.next_action_date if last else None,
        "last_activity": last,
    }
