"""Promises to pay: an amount by a date for some invoices, taken from a call or an e-mail;
payment plans as a series of promises (instalments) sharing a plan reference.

Kept or broken is decided by `promises_evaluate` (the daily beat task) from the cash applied to
the promised invoices since the promise was taken (receivables' applications, reversals
excluded) and the promised date plus the grace period: paid in full -> kept; date plus grace
passed and not paid -> broken, which raises the customer's priority on the worklist and e-mails
its collector. A plan's instalments are judged cumulatively, in order: instalment k is kept once
the cash since the plan started covers instalments 1..k.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count

from billing.models import Invoice
from otc import dates
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import ZERO, check_plausible, money_text, quantize, to_decimal
from otc.services import counter_next, record_status_change

from .. import conf_worklist as conf
from ..models import PromiseItem, PromiseStatus, PromiseToPay
from ..selectors.exclusions import disputed_amounts, promised_amounts

MANAGE = "collections_app.manage_promise"
CHANNELS = ("call", "email", "meeting", "letter", "api")
OPEN_INVOICE = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)


def _require(by: User, what: str) -> None:
    if not by.has_perm(MANAGE):
        raise PermissionDenied(f"You may not {what}.")


def _invoices(customer_id: int, invoice_ids: list[int]) -> list[Invoice]:
    if not invoice_ids:
        raise ValidationFailed("Choose the invoices the customer promises to pay.", fields={"invoices": ["required"]})
    invoices = list(Invoice.objects.select_for_update(of=("self",)).filter(pk__in=invoice_ids).order_by("pk"))
    if len(invoices) != len(set(invoice_ids)):
        raise ValidationFailed("A chosen invoice does not exist.", fields={"invoices": ["unknown"]})
    for invoice in invoices:
        if invoice.customer_id != customer_id:
            raise ValidationFailed(f"Invoice {invoice.number} is another customer's.", fields={"invoices": ["customer"]})
        if invoice.status not in OPEN_INVOICE:
            raise ValidationFailed(f"Invoice {invoice.number} is {invoice.get_status_display().lower()}: nothing to "
                                   "promise.", fields={"invoices": ["not open"]})
    if len({(i.legal_entity_id, i.currency) for i in invoices}) > 1:
        raise ValidationFailed("A promise covers invoices of one legal entity and currency; take one per entity "
                               "and currency.", fields={"invoices": ["mixed"]})
    return sorted(invoices, key=lambda i: (i.due_date or i.issue_date, i.pk))


def _collectible(invoices: list[Invoice], as_of: dt.date) -> dict[int, Decimal]:
    """Per invoice: open, less open disputes and amounts already under valid promises."""
    ids = [i.pk for i in invoices]
    disputed, promised = disputed_amounts(invoice_ids=ids), promised_amounts(invoice_ids=ids, as_of=as_of)
    return {i.pk: max(i.balance_due - disputed.get(i.pk, ZERO) - promised.get(i.pk, ZERO), ZERO) for i in invoices}


def _allocate(amount: Decimal, invoices: list[Invoice], room: dict[int, Decimal]) -> list[tuple[int, Decimal]]:
    """Spread `amount` over the invoices, oldest due first, within each one's room (changed in place)."""
    out, left = [], amount
    for invoice in invoices:
        take = min(left, room[invoice.pk])
        if take > 0:
            out.append((invoice.pk, take))
            room[invoice.pk] -= take
            left -= take
        if left <= 0:
            break
    return out


def _check_date(promised_date: dt.date) -> None:
    if promised_date < dates.today():
        raise ValidationFailed("The promised date is in the past.", fields={"promised_date": ["past"]})
    if promised_date > dates.today() + dt.timedelta(days=3 * 366):
        raise ValidationFailed("The promised date is more than three years away.", fields={"promised_date": ["far"]})


def _amount(value: Any, currency: str, field: str = "amount") -> Decimal:
    amount = check_plausible(to_decimal(value), currency, field=field)
    if amount <= 0 or quantize(amount, currency) != amount:
        raise ValidationFailed(f"The amount must be positive with at most the decimals of {currency}.",
                               fields={field: ["invalid"]})
    return amount


@transaction.atomic
def promise_take(*, customer_id: int, by: User, promised_date: dt.date, invoice_ids: list[int],
                 amount: Decimal | None = None, channel: str = "call", note: str = "",
                 grace_days: int | None = None) -> PromiseToPay:
    """The customer promises to pay `amount` (default: all that is collectible on the invoices)
    by `promised_date`. The amount is spread over the invoices, oldest due first; it cannot exceed
    what is open on them less disputes and other valid promises."""
    _require(by, "record promises to pay")
    if channel not in CHANNELS:
        raise ValidationFailed(f"Channel is one of {', '.join(CHANNELS)}.", fields={"channel": ["invalid"]})
    _check_date(promised_date)
    invoices = _invoices(customer_id, invoice_ids)
    first = invoices[0]
    room = _collectible(invoices, dates.today())
    available = sum(room.values(), ZERO)
    amount = available if amount is None else _amount(amount, first.currency)
    if amount <= 0:
        raise ValidationFailed("Nothing on these invoices is left to promise (disputed or promised already).",
                               fields={"invoices": ["nothing collectible"]})
    if amount > available:
        raise ValidationFailed(f"{money_text(amount, first.currency)} exceeds the {money_text(available, first.currency)} "
                               "open on these invoices that is not disputed or promised already.",
                               fields={"amount": ["exceeds"]})
    return _create(first, customer_id, by, amount, promised_date, _allocate(amount, invoices, room), channel=channel,
                   note=note, grace_days=grace_days)


def _create(first: Invoice, customer_id: int, by: User, amount: Decimal, promised_date: dt.date,
            items: list[tuple[int, Decimal]], *, channel: str, note: str, grace_days: int | None,
            plan_reference: str = "", instalment: int | None = None) -> PromiseToPay:
    promise = PromiseToPay.objects.create(
        legal_entity_id=first.legal_entity_id, customer_id=customer_id, currency=first.currency, amount=amount,
        promised_date=promised_date, channel=channel, note=(note or "").strip(), taken_by=by,
        grace_days=conf.get("COLLECTIONS_PROMISE_GRACE_DAYS") if grace_days is None else grace_days,
        plan_reference=plan_reference, instalment=instalment)
    PromiseItem.objects.bulk_create([PromiseItem(promise=promise, invoice_id=pk, amount=a) for pk, a in items])
    record_status_change(promise, by=by, from_state="", note=f"{money_text(amount, promise.currency)} by {promised_date}")
    return promise


@transaction.atomic
def payment_plan_create(*, customer_id: int, by: User, invoice_ids: list[int],
                        instalments: list[tuple[dt.date, Decimal]], note: str = "", channel: str = "call",
                        grace_days: int | None = None) -> list[PromiseToPay]:
    """A payment plan: one promise per instalment (date, amount) over the same invoices, sharing a
    plan reference; the instalments cover the invoices oldest first."""
    _require(by, "agree payment plans")
    if len(instalments) < 2:
        raise ValidationFailed("A payment plan has at least two instalments.", fields={"instalments": ["too few"]})
    dates_in_order = [d for d, _ in instalments]
    if dates_in_order != sorted(dates_in_order) or len(set(dates_in_order)) != len(dates_in_order):
        raise ValidationFailed("Instalment dates must be different and in order.", fields={"instalments": ["order"]})
    _check_date(dates_in_order[0])
    invoices = _invoices(customer_id, invoice_ids)
    first = invoices[0]
    amounts = [_amount(a, first.currency, "instalments") for _, a in instalments]
    room = _collectible(invoices, dates.today())
    available = sum(room.values(), ZERO)
    if sum(amounts, ZERO) > available:
        raise ValidationFailed(f"The instalments total {money_text(sum(amounts, ZERO), first.currency)}, more than the "
                               f"{money_text(available, first.currency)} collectible on these invoices.",
                               fields={"instalments": ["exceeds"]})
    reference = f"PLAN-{counter_next(name='collections_payment_plan')[0]:05d}"
    return [_create(first, customer_id, by, a, d, _allocate(a, invoices, room), channel=channel,
                    note=note or f"Payment plan {reference}, instalment {n} of {len(amounts)}", grace_days=grace_days,
                    plan_reference=reference, instalment=n)
            for n, (d, a) in enumerate(zip(dates_in_order, amounts, strict=True), start=1)]


@transaction.atomic
def promise_cancel(*, promise_id: int, by: User, note: str) -> PromiseToPay:
    _require(by, "cancel promises to pay")
    if not (note or "").strip():
        raise ValidationFailed("Say why the promise is cancelled.", fields={"note": ["required"]})
    promise = PromiseToPay.objects.select_for_update(of=("self",)).filter(pk=promise_id).first()
    if promise is None:
        raise ValidationFailed(f"Promise {promise_id} does not exist.")
    if promise.status != PromiseStatus.OPEN:
        raise InvalidTransition(f"A promise that is {promise.get_status_display().lower()} cannot be cancelled.")
    promise.status, promise.decided_at = PromiseStatus.CANCELLED, dates.now()
    promise.save(update_fields=["status", "decided_at", "updated_at"])
    record_status_change(promise, by=by, from_state=PromiseStatus.OPEN, note=note.strip())
    return promise


# --- deciding kept / broken ------------------------------------------------------------------------

def _paid_since(groups: dict[str, list[PromiseToPay]]) -> dict[str, Decimal]:
    """Cash applied (not reversed) to each group's invoices since the group's first promise."""
    from receivables.models import ReceiptApplication

    invoice_ids: dict[str, set[int]] = defaultdict(set)
    for key, promises in groups.items():
        for promise in promises:
            invoice_ids[key].update(item.invoice_id for item in promise.items.all())
    all_ids = set(itertools.chain.from_iterable(invoice_ids.values()))
    rows = (ReceiptApplication.objects.filter(invoice_id__in=all_ids, reversed_at__isnull=True)
            .values("invoice_id", "applied_at", "amount"))
    by_invoice: dict[int, list[tuple[dt.datetime, Decimal]]] = defaultdict(list)
    for row in rows:
        by_invoice[row["invoice_id"]].append((row["applied_at"], row["amount"]))
    paid = {}
    for key, promises in groups.items():
        since = min(p.created_at for p in promises)
        paid[key] = sum((amount for pk in invoice_ids[key] for at, amount in by_invoice.get(pk, ()) if at >= since), ZERO)
    return paid


@transaction.atomic
def promises_evaluate(*, as_of: dt.date | None = None, customer_ids: list[int] | None = None) -> dict[str, int]:
    """Decide open promises: kept when paid, broken when the date plus grace has passed. Updates
    `paid_amount`; e-mails the collector of each customer with a newly broken promise."""
    as_of = as_of or dates.today()
    qs = PromiseToPay.objects.select_for_update(of=("self",)).filter(status=PromiseStatus.OPEN)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    open_ids = list(qs.order_by("pk").values_list("pk", flat=True))
    plans = set(PromiseToPay.objects.filter(pk__in=open_ids).exclude(plan_reference="")
                .values_list("plan_reference", flat=True))
    rows = list(PromiseToPay.objects.filter(pk__in=open_ids).filter(plan_reference="").prefetch_related("items")) + \
        list(PromiseToPay.objects.filter(plan_reference__in=plans).prefetch_related("items"))
    groups: dict[str, list[PromiseToPay]] = defaultdict(list)
    for promise in rows:
        groups[promise.plan_reference or f"#{promise.pk}"].append(promise)
    paid = _paid_since(groups)
    counts = {"kept": 0, "broken": 0, "open": 0}
    broken: list[PromiseToPay] = []
    stamp = dates.now()
    for key, promises in groups.items():
        promises.sort(key=lambda p: (p.instalment or 0, p.promised_date, p.pk))
        cash, due_so_far = paid[key], ZERO
        for promise in promises:
            due_so_far += promise.amount
            covered = min(max(cash - (due_so_far - promise.amount), ZERO), promise.amount)
            if promise.status != PromiseStatus.OPEN:
                continue
            fields = ["paid_amount", "updated_at"]
            promise.paid_amount = covered
            if covered >= promise.amount:
                promise.status = PromiseStatus.KEPT
            elif as_of > promise.promised_date + dt.timedelta(days=promise.grace_days):
                promise.status = PromiseStatus.BROKEN
                broken.append(promise)
            if promise.status != PromiseStatus.OPEN:
                promise.decided_at = stamp
                fields += ["status", "decided_at"]
                record_status_change(promise, by=None, from_state=PromiseStatus.OPEN,
                                     note=f"{money_text(covered, promise.currency)} of "
                                          f"{money_text(promise.amount, promise.currency)} paid by {as_of}")
            counts[promise.status] += 1
            promise.save(update_fields=fields)
    if broken:
        ids = [p.pk for p in broken]
        transaction.on_commit(lambda: _notify_broken(ids))
    return counts


def _notify_broken(promise_ids: list[int]) -> None:
    from ..tasks_promises import notify_broken_promises

    notify_broken_promises.delay(promise_ids=promise_ids)


# --- KPI -------------------------------------------------------------------------------------------

def kept_rates(*, by: str = "collector", since: dt.date | None = None) -> dict[Any, dict[str, Any]]:
    """Promise kept-rate: kept / (kept + broken) of the promises decided since `since`, per
    collector (who took the promise) or per customer. {key: {kept, broken, rate (percent or None)}}."""
    field = {"collector": "taken_by_id", "customer": "customer_id"}[by]
    qs = PromiseToPay.objects.filter(status__in=(PromiseStatus.KEPT, PromiseStatus.BROKEN))
    if since is not None:
        qs = qs.filter(promised_date__gte=since)
    out: dict[Any, dict[str, Any]] = defaultdict(lambda: {"kept": 0, "broken": 0, "rate": None})
    for row in qs.values(field, "status").annotate(n=Count("pk")):
        out[row[field]][row["status"]] = row["n"]
    for value in out.values():
        decided = value["kept"] + value["broken"]
        value["rate"] = quantize(Decimal(100) * value["kept"] / decided, "EUR") if decided else None
    return dict(out)
