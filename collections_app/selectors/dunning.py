"""What a dunning run would send, computed in sets: one query per kind of fact for a chunk of
customers (overdue items, credits, disputes, promises, placements, holds, exclusions, waiting
receipts, levels already sent), then one pass in Python over the chunk's rows.

`compose(...)` returns the letters (one per customer, listing every overdue invoice at its own
level, the customer's level being its highest level not yet reminded) and the customers left out
with the reason. Collectible = open less disputed less promised; the customer's unapplied cash and
credits are shown beside it and taken off the amount to pay.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, Q, Sum

from collections_app.models import (
    DunningExclusion,
    DunningLetter,
    DunningLetterItem,
    DunningLevel,
    DunningPolicy,
)
from collections_app.selectors.exclusions import disputed_amounts, promised_amounts
from ledger.models import Account, OpenItem
from otc.money import ZERO, quantize

DAYS_IN_YEAR = Decimal(365)
HUNDRED = Decimal(100)


@dataclass
class ItemSpec:
    open_item_id: int
    invoice_id: int | None
    document_number: str
    due_date: dt.date
    days_overdue: int
    level: int
    currency: str
    open_amount: Decimal
    disputed: Decimal = ZERO
    promised: Decimal = ZERO
    collectible: Decimal = ZERO
    interest: Decimal = ZERO
    fee: Decimal = ZERO
    included: bool = True
    excluded_reason: str = ""


@dataclass
class LetterSpec:
    customer_id: int
    level: DunningLevel
    items: list[ItemSpec]
    totals: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class SkipSpec:
    customer_id: int
    code: str
    reason: str


def policy_levels(policy: DunningPolicy) -> list[DunningLevel]:
    return sorted(policy.levels.all(), key=lambda lvl: lvl.days_after_due)


def level_for(days: int, levels: list[DunningLevel]) -> DunningLevel | None:
    found = None
    for level in levels:
        if days >= level.days_after_due:
            found = level
    return found


def due_customer_ids(*, legal_entity_id: int, as_of: dt.date, first_days: int) -> list[int]:
    """Customers with at least one receivable overdue by the first level's days, in id order."""
    latest_due = as_of - dt.timedelta(days=first_days)
    return list(OpenItem.objects.filter(legal_entity_id=legal_entity_id, account__role=Account.Role.AR,
                                        original_amount__gt=0, open_amount__gt=0, due_date__lte=latest_due)
                .order_by("customer_id").values_list("customer_id", flat=True).distinct())


def excluded_customers(*, policy: DunningPolicy, customer_ids: list[int], as_of: dt.date) -> dict[int, str]:
    """Customer id -> why the whole customer is left out (key account, flag, placement)."""
    out: dict[int, str] = {}
    for pk in policy.key_accounts.filter(pk__in=customer_ids).values_list("pk", flat=True):
        out[pk] = "key account: excluded by the entity's dunning policy"
    flags = (DunningExclusion.objects.filter(customer_id__in=customer_ids, invoice__isnull=True, lifted_at__isnull=True)
             .filter(Q(until__isnull=True) | Q(until__gte=as_of)).values_list("customer_id", "reason"))
    for pk, reason in flags:
        out.setdefault(pk, f"excluded from dunning: {reason}")
    from collections_app.selectors.agency import placed_customers

    for pk, label in placed_customers(customer_ids=customer_ids, legal_entity_id=policy.legal_entity_id).items():
        out.setdefault(pk, f"under placement with {label}")
    return out


def held_invoices(*, invoice_ids: list[int], as_of: dt.date) -> dict[int, str]:
    rows = (DunningExclusion.objects.filter(invoice_id__in=invoice_ids, lifted_at__isnull=True)
            .filter(Q(until__isnull=True) | Q(until__gte=as_of)).values_list("invoice_id", "reason"))
    return dict(rows)


def waiting_receipts(*, legal_entity_id: int, customer_ids: list[int]) -> dict[int, int]:
    """Customer id -> number of its receipts waiting unapplied on the cash-application workbench."""
    from django.db.models import Count

    from receivables.models import Receipt
    from receivables.selectors import LEFT

    rows = (Receipt.objects.filter(legal_entity_id=legal_entity_id, customer_id__in=customer_ids,
                                   status__in=(Receipt.Status.UNAPPLIED, Receipt.Status.PARTIALLY_APPLIED))
            .annotate(left=LEFT).filter(left__gt=0).values("customer_id").annotate(n=Count("id")).order_by())
    return {row["customer_id"]: row["n"] for row in rows}


def stale_statements(*, legal_entity_id: int, as_of: dt.date, max_age_days: int) -> list[str]:
    """The entity's active bank accounts whose last imported statement is older than allowed."""
    from receivables.models import BankAccount

    oldest = as_of - dt.timedelta(days=max_age_days)
    problems = []
    accounts = (BankAccount.objects.filter(legal_entity_id=legal_entity_id, is_active=True)
                .annotate(last=Max("statements__statement_date")).order_by("name"))
    for account in accounts:
        if account.last is None:
            problems.append(f"{account.name}: no bank statement imported yet")
        elif account.last < oldest:
            problems.append(f"{account.name}: last statement dated {account.last:%Y-%m-%d}, older than "
                            f"{max_age_days} day(s) before {as_of:%Y-%m-%d}")
    return problems


def _interest(amount: Decimal, annual_rate: Decimal, days: int, currency: str) -> Decimal:
    """Statutory interest on `amount` for `days` at `annual_rate` percent a year (actual/365)."""
    return quantize((amount * annual_rate * days / (HUNDRED * DAYS_IN_YEAR)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP), currency)


def compose(*, policy: DunningPolicy, levels: list[DunningLevel], as_of: dt.date,
            customer_ids: list[int]) -> tuple[list[LetterSpec], list[SkipSpec]]:
    entity_id = policy.legal_entity_id
    invoice_ct = ContentType.objects.get(app_label="billing", model="invoice").pk
    items = list(OpenItem.objects.filter(legal_entity_id=entity_id, customer_id__in=customer_ids,
                                         account__role=Account.Role.AR, original_amount__gt=0, open_amount__gt=0,
                                         due_date__lt=as_of)
                 .order_by("customer_id", "due_date", "id")
                 .values_list("id", "customer_id", "currency", "document_number", "due_date", "open_amount",
                              "source_type_id", "source_id"))
    credit_rows = (OpenItem.objects.filter(legal_entity_id=entity_id, customer_id__in=customer_ids, open_amount__lt=0)
                   .values("customer_id", "currency").annotate(total=Sum("open_amount")).order_by())
    credits: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for credit in credit_rows:
        credits[credit["customer_id"]][credit["currency"]] = -credit["total"]
    # an invoice's item names it; Django drops a None from the `__in` filters below anyway (the same SQL)
    invoice_ids = [row[7] for row in items if row[6] == invoice_ct and row[7] is not None]
    disputed = disputed_amounts(invoice_ids=invoice_ids)
    promised = promised_amounts(invoice_ids=invoice_ids, as_of=as_of)
    held = held_invoices(invoice_ids=invoice_ids, as_of=as_of)
    from collections_app.selectors.agency import placed_invoices
    from collections_app.selectors.writeoffs import pending_write_off_invoice_ids

    placed = placed_invoices(invoice_ids=invoice_ids)
    writing_off = pending_write_off_invoice_ids(invoice_ids=invoice_ids)
    excluded = excluded_customers(policy=policy, customer_ids=customer_ids, as_of=as_of)
    waiting = waiting_receipts(legal_entity_id=entity_id, customer_ids=customer_ids)
    sent_levels = dict(DunningLetterItem.objects.filter(  # the chunk's customers, not its thousands of items
        letter__legal_entity_id=entity_id, letter__customer_id__in=customer_ids, included=True,
        letter__status__in=(DunningLetter.Status.DRAFT, DunningLetter.Status.SENT))
        .values("open_item_id").annotate(top=Max("level")).order_by().values_list("open_item_id", "top"))
    today_letters = set(DunningLetter.objects.filter(
        legal_entity_id=entity_id, customer_id__in=customer_ids, letter_date=as_of)
        .exclude(status=DunningLetter.Status.CANCELLED).values_list("customer_id", "level"))

    by_customer: dict[int, list[tuple]] = defaultdict(list)
    for row in items:
        by_customer[row[1]].append(row)
    letters, skips = [], []
    for customer_id in customer_ids:
        rows = by_customer.get(customer_id)
        if not rows:
            continue
        if customer_id in excluded:
            skips.append(SkipSpec(customer_id, "excluded", excluded[customer_id]))
            continue
        if waiting.get(customer_id):
            skips.append(SkipSpec(customer_id, "unapplied_receipts",
                                  f"{waiting[customer_id]} receipt(s) from this customer wait unapplied on the "
                                  "cash-application workbench: apply them before reminding the customer"))
            continue
        specs, new_level = [], None
        for pk, _cust, currency, number, due, open_amount, source_type, source_id in rows:
            invoice_id = source_id if source_type == invoice_ct else None
            days = (as_of - due).days
            level = level_for(days, levels)
            spec = ItemSpec(open_item_id=pk, invoice_id=invoice_id, document_number=number, due_date=due,
                            days_overdue=days, level=level.number if level else 0, currency=currency,
                            open_amount=open_amount)
            spec.disputed = min(disputed.get(invoice_id, ZERO), open_amount) if invoice_id else ZERO
            spec.promised = min(promised.get(invoice_id, ZERO), open_amount - spec.disputed) if invoice_id else ZERO
            spec.collectible = open_amount - spec.disputed - spec.promised
            if invoice_id in placed:
                spec.included, spec.excluded_reason = False, f"placed with {placed[invoice_id]}"
            elif invoice_id in held:
                spec.included, spec.excluded_reason = False, f"held from dunning: {held[invoice_id]}"
            elif invoice_id in writing_off:
                spec.included, spec.excluded_reason = False, "in a write-off awaiting approval"
            elif spec.collectible <= 0:
                why = []
                if spec.disputed:
                    why.append("disputed")
                if spec.promised:
                    why.append("under a promise to pay")
                spec.included, spec.excluded_reason = False, " and ".join(why) or "nothing collectible"
            if spec.included:
                if level and level.charge_interest:
                    spec.interest = _interest(spec.collectible, policy.annual_rate, days, currency)
                if level and level.charge_fee:
                    spec.fee = policy.fixed_compensation
                if level and level.number > sent_levels.get(pk, 0) and (new_level is None or level.number > new_level.number):
                    new_level = level
            specs.append(spec)
        if new_level is None:
            continue  # nothing reached a new level since the last reminder: nothing to send
        if (customer_id, new_level.number) in today_letters:
            continue  # already reminded at this level today (a re-run)
        totals = _totals(specs, credits.get(customer_id, {}), policy)
        if not any(Decimal(t["to_pay"]) > 0 for cur, t in totals.items() if cur != "_compensation"):
            skips.append(SkipSpec(customer_id, "covered", "the customer's unapplied cash and credits cover "
                                                          "everything collectible"))
            continue
        letters.append(LetterSpec(customer_id=customer_id, level=new_level, items=specs, totals=totals))
    return letters, skips


def _s(value: Decimal) -> str:
    """Stored amounts as text with the storage's four places (the same on SQLite and PostgreSQL)."""
    return str(Decimal(value).quantize(Decimal("0.0001")))


def _totals(specs: list[ItemSpec], credits: dict[str, Decimal], policy: DunningPolicy) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, Any]] = {}
    fees = ZERO
    for spec in specs:
        row = out.setdefault(spec.currency, {"overdue": ZERO, "not_claimed": ZERO, "collectible": ZERO,
                                             "interest": ZERO, "invoices": 0})
        row["overdue"] += spec.open_amount
        if spec.included:
            row["collectible"] += spec.collectible
            row["not_claimed"] += spec.open_amount - spec.collectible
            row["interest"] += spec.interest
            row["invoices"] += 1
            fees += spec.fee
        else:
            row["not_claimed"] += spec.open_amount
    for currency, row in out.items():
        credit = credits.get(currency, ZERO)
        row["credits"] = credit
        row["to_pay"] = max(row["collectible"] - credit, ZERO)
    result = {cur: {k: (_s(v) if isinstance(v, Decimal) else v) for k, v in row.items()} for cur, row in out.items()}
    if fees:
        result["_compensation"] = {"currency": policy.compensation_currency, "amount": _s(fees)}
    return result
