"""Reads and reports of the ledger, built with database aggregates (never a Python loop over
journal lines or open items: loops below run over aggregated groups, one per account, customer
or currency)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least

from customers.selectors import customers_visible_to
from otc import dates
from otc.aggregates import MONEY_FIELD, money_sum, money_value
from otc.models import User
from otc.money import ZERO

from .models import Account, JournalEntry, JournalLine, LegalEntity, OpenItem, Period

_MONEY = MONEY_FIELD
_sum = money_sum
_q = money_value


# --- trial balance --------------------------------------------------------------------------

@dataclass
class TrialBalanceRow:
    account_id: int
    code: str
    name: str
    type: str
    debit: Decimal
    credit: Decimal
    balance: Decimal
    currencies: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TrialBalance:
    entity: LegalEntity
    date_from: dt.date | None
    date_to: dt.date
    rows: list[TrialBalanceRow]
    total_debit: Decimal
    total_credit: Decimal

    @property
    def currency(self) -> str:
        return self.entity.functional_currency

    @property
    def total_balance(self) -> Decimal:
        return self.total_debit - self.total_credit


def _lines_in_range(legal_entity_id: int, date_from: dt.date | None, date_to: dt.date) -> QuerySet[JournalLine]:
    lines = JournalLine.objects.filter(entry__legal_entity_id=legal_entity_id, entry__entry_date__lte=date_to)
    if date_from is not None:
        lines = lines.filter(entry__entry_date__gte=date_from)
    return lines


def trial_balance(*, legal_entity_id: int, date_from: dt.date | None = None, date_to: dt.date) -> TrialBalance:
    """Per account with postings in the range (by posting date; without `date_from`, everything up to
    `date_to`): debit, credit and balance in the functional currency, and per transaction currency
    the same in that currency plus its functional equivalent. Debits minus credits is zero."""
    entity = LegalEntity.objects.get(pk=legal_entity_id)
    lines = _lines_in_range(legal_entity_id, date_from, date_to)
    per_account = (
        lines.values("account_id", "account__code", "account__name", "account__type")
        .annotate(  # debits, credits: the lines' own `debit` and `credit` are properties
            debits=_sum("functional_amount", filter=Q(functional_amount__gt=0)),
            credits=_sum(-F("functional_amount"), filter=Q(functional_amount__lt=0)),
            balance=_sum("functional_amount"),
        )
        .order_by("account__code")
    )
    per_currency = (
        lines.values("account_id", "currency")
        .annotate(
            debits=_sum("amount", filter=Q(amount__gt=0)),
            credits=_sum(-F("amount"), filter=Q(amount__lt=0)),
            balance=_sum("amount"),
            functional_balance=_sum("functional_amount"),
        )
        .order_by("account_id", "currency")
    )
    breakdown: dict[int, list[dict[str, Any]]] = {}
    for group in per_currency:
        breakdown.setdefault(group["account_id"], []).append({
            "account_id": group["account_id"], "currency": group["currency"], "debit": _q(group["debits"]),
            "credit": _q(group["credits"]), "balance": _q(group["balance"]),
            "functional_balance": _q(group["functional_balance"])})
    rows = [
        TrialBalanceRow(
            account_id=a["account_id"], code=a["account__code"], name=a["account__name"], type=a["account__type"],
            debit=_q(a["debits"]), credit=_q(a["credits"]), balance=_q(a["balance"]),
            currencies=breakdown.get(a["account_id"], []),
        )
        for a in per_account
    ]
    totals = lines.aggregate(
        debit=_sum("functional_amount", filter=Q(functional_amount__gt=0)),
        credit=_sum(-F("functional_amount"), filter=Q(functional_amount__lt=0)),
    )
    return TrialBalance(entity=entity, date_from=date_from, date_to=date_to, rows=rows,
                        total_debit=_q(totals["debit"]), total_credit=_q(totals["credit"]))


# --- AR subledger ---------------------------------------------------------------------------

def open_items(*, user: User | None = None) -> QuerySet[OpenItem]:
    """Open items the user may see (all for finance roles; own customers for a sales rep)."""
    items = OpenItem.objects.select_related("legal_entity", "account", "customer")
    if user is not None:
        items = items.filter(customer__in=customers_visible_to(user))
    return items


def _functional_rates(items: QuerySet, on: dt.date) -> dict[tuple[str, str], Decimal]:
    """{(document currency, functional currency): rate on `on`} for the pairs present in `items`
    (one query for the pairs, one per pair for its dated rate; a pair without a rate counts at 0
    and sorts last rather than failing the report)."""
    from ledger.services.rates import fx_rate_for
    from otc.errors import DomainError

    pairs = items.values_list("currency", "legal_entity__functional_currency").distinct().order_by()
    rates = {}
    for currency, functional in pairs:
        try:
            rates[(currency, functional)] = fx_rate_for(from_currency=currency, to_currency=functional, on=on)
        except DomainError:
            rates[(currency, functional)] = ZERO
    return rates


def ar_by_customer(*, legal_entity_id: int | None = None, user: User, currency: str | None = None) -> QuerySet:
    """Open items grouped by customer, currency and functional currency: open total, overdue
    total (what is past due, never below zero nor above the open total: credits are not
    overdue), count, oldest due date, and the open total in the entity's functional currency at
    today's rate (`functional_open`), by which the rows rank, largest first, so amounts in
    different currencies compare. Only customers `customers_visible_to(user)`."""
    today = dates.today()
    items = OpenItem.objects.filter(customer__in=customers_visible_to(user)).exclude(open_amount=0)
    if legal_entity_id is not None:
        items = items.filter(legal_entity_id=legal_entity_id)
    if currency:
        items = items.filter(currency=currency.upper())
    rates = _functional_rates(items, today)
    functional_open = Case(
        *[When(currency=cur, legal_entity__functional_currency=fun, then=F("open_total") * Value(rate))
          for (cur, fun), rate in rates.items()],
        default=Value(ZERO), output_field=MONEY_FIELD)
    overdue = Greatest(Least(_sum("open_amount", filter=Q(due_date__lt=today, open_amount__gt=0)),
                             F("open_total")), Value(ZERO), output_field=MONEY_FIELD)
    return (
        items.values("customer_id", "customer__account_number", "customer__legal_name", "customer__display_name",
                     "currency", "legal_entity__functional_currency")
        .annotate(
            open_total=_sum("open_amount"),
            item_count=Count("id"),
            oldest_due=Min("due_date"),
        )
        .annotate(overdue_total=overdue, functional_open=functional_open)
        .order_by("-functional_open", "-open_total", "customer__legal_name", "currency")
    )


def ar_reconciliation(*, legal_entity_id: int | None = None) -> list[dict[str, Any]]:
    """Per legal entity, subledger account (AR, unapplied cash) and currency: the ledger balance
    in that currency, the sum of open items and the difference, which must always be zero."""
    lines = JournalLine.objects.filter(account__role__in=Account.SUBLEDGER_ROLES)
    items = OpenItem.objects.all()
    if legal_entity_id is not None:
        lines = lines.filter(account__legal_entity_id=legal_entity_id)
        items = items.filter(legal_entity_id=legal_entity_id)
    ledger = lines.values("account_id", "currency").annotate(total=_sum("amount")).order_by()
    subledger = items.values("account_id", "currency").annotate(total=_sum("open_amount"), count=Count("id")).order_by()
    keys: dict[tuple[int, str], dict[str, Any]] = {}
    for group in ledger:
        keys.setdefault((group["account_id"], group["currency"]), {"ledger": ZERO, "items": ZERO, "count": 0})["ledger"] = _q(group["total"])
    for group in subledger:
        row = keys.setdefault((group["account_id"], group["currency"]), {"ledger": ZERO, "items": ZERO, "count": 0})
        row["items"], row["count"] = _q(group["total"]), group["count"]
    accounts = Account.objects.select_related("legal_entity").in_bulk({account_id for account_id, _ in keys})
    rows = []
    for (account_id, currency), sums in keys.items():
        account = accounts[account_id]
        rows.append({
            "legal_entity": account.legal_entity, "account": account, "currency": currency,
            "ledger_balance": sums["ledger"], "open_items_total": sums["items"], "open_items_count": sums["count"],
            "difference": sums["ledger"] - sums["items"],
        })
    rows.sort(key=lambda r: (r["legal_entity"].code, r["account"].code, r["currency"]))
    return rows


def customer_open_items(*, customer_id: int) -> QuerySet[OpenItem]:
    """The customer's items that are still open, oldest due first."""
    return (
        OpenItem.objects.filter(customer_id=customer_id).exclude(open_amount=0)
        .select_related("legal_entity", "account").order_by("due_date", "id")
    )


def customer_balance(*, customer_id: int, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Per currency: open balance, overdue amount (due before `on`, default today), open item
    count, oldest due date."""
    today = on or dates.today()
    groups = (
        OpenItem.objects.filter(customer_id=customer_id).exclude(open_amount=0).values("currency")
        .annotate(
            balance=_sum("open_amount"), overdue=_sum("open_amount", filter=Q(due_date__lt=today)),
            item_count=Count("id"), oldest_due=Min("due_date"),
        )
        .order_by("currency")
    )
    return [{**group, "balance": _q(group["balance"]), "overdue": _q(group["overdue"])} for group in groups]


# --- journal --------------------------------------------------------------------------------

def journal_entries(
    *, legal_entity_id: int | None = None, kind: str | None = None, date_from: dt.date | None = None,
    date_to: dt.date | None = None, period_id: int | None = None, account_id: int | None = None,
    customer_id: int | None = None, search: str = "",
) -> QuerySet[JournalEntry]:
    """Journal entries, newest first, with their functional-currency total (sum of debits) and
    line count annotated by subqueries, so that filters on lines never multiply rows."""
    entries = JournalEntry.objects.select_related("legal_entity", "period", "posted_by", "reverses", "reversed_by")
    if legal_entity_id:
        entries = entries.filter(legal_entity_id=legal_entity_id)
    if kind:
        entries = entries.filter(kind=kind)
    if date_from:
        entries = entries.filter(entry_date__gte=date_from)
    if date_to:
        entries = entries.filter(entry_date__lte=date_to)
    if period_id:
        entries = entries.filter(period_id=period_id)
    if account_id:
        entries = entries.filter(Exists(JournalLine.objects.filter(entry=OuterRef("pk"), account_id=account_id)))
    if customer_id:
        entries = entries.filter(Exists(JournalLine.objects.filter(entry=OuterRef("pk"), customer_id=customer_id)))
    if search:
        entries = entries.filter(
            Q(number__icontains=search) | Q(memo__icontains=search) | Q(source_reference__icontains=search)
        )
    debit_total = (
        JournalLine.objects.filter(entry=OuterRef("pk"), functional_amount__gt=0).order_by()
        .values("entry").annotate(total=Sum("functional_amount")).values("total")
    )
    line_count = (
        JournalLine.objects.filter(entry=OuterRef("pk")).order_by().values("entry").annotate(n=Count("id")).values("n")
    )
    return entries.annotate(
        functional_total=Coalesce(Subquery(debit_total, output_field=_MONEY), Value(ZERO), output_field=_MONEY),
        line_count=Subquery(line_count),
    ).order_by("-entry_date", "-id")


def journal_entry_detail(*, entry_id: int) -> JournalEntry:
    entry = (
        JournalEntry.objects.select_related(
            "legal_entity", "period", "posted_by", "reverses", "reversed_by", "source_type"
        ).get(pk=entry_id)
    )
    entry.line_rows = list(entry.lines.select_related("account", "customer", "open_item").order_by("id"))
    return entry


GL_EXPORT_HEADER = [
    "entity", "entry_number", "entry_date", "document_date", "period", "kind", "line", "account_code", "account_name",
    "customer_account", "customer_name", "currency", "debit", "credit", "fx_rate", "functional_currency",
    "functional_debit", "functional_credit", "description", "open_item", "source_reference", "memo", "reverses",
]


def gl_export_rows(*, legal_entity_id: int, period_id: int) -> Iterator[list[Any]]:
    """Every journal line posted in the period, one row each (header: GL_EXPORT_HEADER), in entry
    number and line order. Amounts are strings quantised to four places, never floats."""
    period = Period.objects.select_related("legal_entity").get(pk=period_id, legal_entity_id=legal_entity_id)
    functional = period.legal_entity.functional_currency
    lines = (
        JournalLine.objects.filter(entry__legal_entity_id=legal_entity_id, entry__period_id=period_id)
        .order_by("entry__number", "id")
        .values_list(
            "entry__number", "entry__entry_date", "entry__document_date", "entry__kind", "account__code",
            "account__name", "customer__account_number", "customer__legal_name", "currency", "amount", "fx_rate",
            "functional_amount", "description", "open_item__document_number", "entry__source_reference",
            "entry__memo", "entry__reverses__number",
        )
    )
    line_no, last_entry = 0, None
    for (number, entry_date, document_date, kind, code, name, customer_no, customer_name, currency, amount, rate,
         func, description, item, reference, memo, reverses) in lines.iterator(chunk_size=2000):
        line_no = line_no + 1 if number == last_entry else 1
        last_entry = number
        yield [
            period.legal_entity.code, number, entry_date.isoformat(), document_date.isoformat(), period.label, kind,
            line_no, code, name, customer_no or "", customer_name or "", currency,
            _fmt(amount if amount > 0 else None), _fmt(-amount if amount < 0 else None), f"{rate:f}", functional,
            _fmt(func if func > 0 else None), _fmt(-func if func < 0 else None), description, item or "",
            reference, memo, reverses or "",
        ]


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.4f}"


# --- dashboards -----------------------------------------------------------------------------

def periods_overview() -> QuerySet[LegalEntity]:
    """Per active legal entity: open period count, first open period and last closed period."""
    open_q, closed_q = Q(periods__status=Period.Status.OPEN), Q(periods__status=Period.Status.CLOSED)
    return (
        LegalEntity.objects.filter(is_active=True)
        .annotate(
            open_periods=Count("periods", filter=open_q),
            first_open_key=Min(F("periods__year") * 100 + F("periods__month"), filter=open_q),
            last_closed_key=Max(F("periods__year") * 100 + F("periods__month"), filter=closed_q),
        )
        .order_by("code")
    )


def currency_totals(rows: list[dict[str, Any]], *, on: dt.date, amount_keys: tuple[str, ...]) -> dict[str, Any]:
    """Totals per currency of a list (rows of {legal_entity__functional_currency, currency,
    count, <amount_keys>...}, e.g. a values().annotate() by entity and currency) and, where more
    than one currency is summed into one functional currency, a converted total per functional
    currency at the rate in force on `on` (`fx_rate_for`). A missing rate leaves that
    conversion out and says which."""
    from ledger.services.rates import fx_rate_for
    from otc.errors import DomainError

    by_currency: dict[str, dict[str, Any]] = {}
    functional: dict[str, dict[str, Any]] = {}
    for row in rows:
        cur = row["currency"]
        entry = by_currency.setdefault(cur, {"currency": cur, "count": 0, **dict.fromkeys(amount_keys, ZERO)})
        entry["count"] += row["count"]
        for key in amount_keys:
            entry[key] += money_value(row[key])
        fun = row["legal_entity__functional_currency"]
        target = functional.setdefault(fun, {"currency": fun, "currencies": set(), "missing": set(),
                                             **dict.fromkeys(amount_keys, ZERO)})
        target["currencies"].add(cur)
        try:
            rate = fx_rate_for(from_currency=cur, to_currency=fun, on=on)
        except DomainError:
            target["missing"].add(cur)
            continue
        for key in amount_keys:
            target[key] += money_value(row[key]) * rate
    from otc.money import quantize

    converted = []
    for fun, target in sorted(functional.items()):
        if len(target["currencies"]) < 2:
            continue  # one currency: its total is already above
        converted.append({"currency": fun, "from": sorted(target["currencies"]), "missing": sorted(target["missing"]),
                          **{k: quantize(target[k], fun) for k in amount_keys}})
    return {"by_currency": [by_currency[c] for c in sorted(by_currency)], "converted": converted, "on": on}


def list_totals(rows, *, gross: str, open: str | None = None,  # noqa: A002 - the column's name
                entity_currency: str = "legal_entity__functional_currency", currency: str = "currency") -> dict[str, Any]:
    """`currency_totals` of a filtered list queryset (otc.listing.sorted_page's `totals`): per
    currency, the count and the sums of the `gross` (and `open`) fields, and the converted totals
    at today's rates. One query for the sums."""
    from django.db.models import Count

    from otc import dates
    from otc.aggregates import money_sum

    sums = {"gross": money_sum(gross), **({"open": money_sum(open)} if open else {})}
    grouped = (rows.order_by().values(entity_currency, currency).annotate(count=Count("pk"), **sums))
    values = [{"legal_entity__functional_currency": row[entity_currency], "currency": row[currency],
               **{k: row[k] for k in ("count", *sums)}} for row in grouped]
    return currency_totals(values, on=dates.today(), amount_keys=tuple(sums))


def ar_by_customer_totals(rows: QuerySet) -> dict[str, Any]:
    """The footer of AR by customer: per currency the open and overdue totals (`gross` and `open`
    in `currency_totals`' terms) and the items counted, and where an entity's customers owe in
    several currencies, the total converted to its functional currency at today's rate. Summed
    over the grouped rows (one per customer and currency), so the overdue total adds the rows'
    clamped overdue amounts, as the page shows them."""
    sums: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows.order_by():
        key = (row["legal_entity__functional_currency"], row["currency"])
        entry = sums.setdefault(key, {"legal_entity__functional_currency": key[0], "currency": key[1], "count": 0,
                                      "gross": ZERO, "open": ZERO})
        entry["count"] += row["item_count"]
        entry["gross"] += row["open_total"] or ZERO
        entry["open"] += row["overdue_total"] or ZERO
    return currency_totals(list(sums.values()), on=dates.today(), amount_keys=("gross", "open"))
