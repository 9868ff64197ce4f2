from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from ledger.models import Account, JournalLine, OpenItem, Period
from otc import dates
from otc.aggregates import money_sum, money_value
from otc.errors import DomainError, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import ZERO, money_text
from otc.registry import registry
from otc.services import ensure_transition, record_status_change


def _get_or_create_period(legal_entity_id: int, year: int, month: int) -> Period:
    period = Period.objects.filter(legal_entity_id=legal_entity_id, year=year, month=month).first()
    if period is not None:
        return period
    try:
        with transaction.atomic():
            return Period.objects.create(legal_entity_id=legal_entity_id, year=year, month=month)
    except IntegrityError:  # created concurrently
        return Period.objects.get(legal_entity_id=legal_entity_id, year=year, month=month)


def period_for_posting(*, legal_entity_id: int, date: dt.date, roll_forward: bool = True) -> tuple[Period, dt.date]:
    """The open period a posting dated `date` goes to, and the posting date.

    Periods are open until a Controller closes them (a missing month is created open). A date in
    a closed period rolls forward to the first day of the next open period, keeping the
    document date on the entry; with roll_forward=False (manual journals) it is refused."""
    period = _get_or_create_period(legal_entity_id, date.year, date.month)
    if period.status == Period.Status.OPEN:
        return period, date
    if not roll_forward:
        raise DomainError(f"The period {period.label} is closed; post into an open period.")
    year, month = date.year, date.month
    for _ in range(120):
        month += 1
        if month == 13:
            year, month = year + 1, 1
        candidate = _get_or_create_period(legal_entity_id, year, month)
        if candidate.status == Period.Status.OPEN:
            return candidate, candidate.start
    raise DomainError("No open accounting period found in the next ten years.")


def _change_period(*, period_id: int, to: str, by: User, note: str = "") -> Period:
    if by is None or not by.has_perm("ledger.manage_periods"):
        raise PermissionDenied("Only a Controller may close or reopen accounting periods.")
    if to == Period.Status.OPEN and not (note or "").strip():
        raise ValidationFailed("Reopening a closed period needs a written reason.", fields={"note": ["required"]})
    period = Period.objects.select_for_update(of=("self",)).filter(pk=period_id).first()
    if period is None:
        raise ValidationFailed(f"Accounting period {period_id} does not exist.")
    ensure_transition(period, to=to)
    if to == Period.Status.CLOSED:
        differences = subledger_differences(legal_entity_id=period.legal_entity_id, as_of=period.end)
        if differences:
            raise DomainError(
                f"{period.label} cannot be closed: a subledger does not equal its control account. "
                + "; ".join(differences) + ".", code="subledger_difference")
    before = period.status
    period.status = to
    period.closed_at, period.closed_by = (dates.now(), by) if to == Period.Status.CLOSED else (None, None)
    period._history_user = by
    period._change_reason = note.strip()[:100]
    period.save(update_fields=["status", "closed_at", "closed_by"])
    record_status_change(period, by=by, from_state=before, note=note.strip())
    for hook in registry.period_close_hooks:  # e.g. receivables freezes the month-end aging snapshot
        hook(period=period, by=by, closing=to == Period.Status.CLOSED)
    return period


def subledger_differences(*, legal_entity_id: int, as_of) -> list[str]:
    """Each subledger (AR, unapplied cash) against its control account at the end of `as_of`,
    per currency: the control balance is the lines posted on the account up to that date; the
    subledger is the open items as they stood then (open amount less their lines posted later).
    Returns one sentence per difference, naming account, currency and amounts; empty when all tie."""
    accounts = {a.id: a for a in Account.objects.filter(legal_entity_id=legal_entity_id, role__in=Account.SUBLEDGER_ROLES)}
    control = (JournalLine.objects.filter(account_id__in=accounts, entry__entry_date__lte=as_of)
               .values("account_id", "currency").annotate(total=money_sum("amount")).order_by())
    items = (OpenItem.objects.filter(account_id__in=accounts).exclude(open_amount=0)
             .values("account_id", "currency").annotate(total=money_sum("open_amount")).order_by())
    later = (JournalLine.objects.filter(open_item__account_id__in=accounts, entry__entry_date__gt=as_of)
             .values("open_item__account_id", "open_item__currency").annotate(total=money_sum("amount")).order_by())
    sums: dict[tuple[int, str], list] = {}
    for row in control:
        sums.setdefault((row["account_id"], row["currency"]), [ZERO, ZERO])[0] += money_value(row["total"])
    for row in items:
        sums.setdefault((row["account_id"], row["currency"]), [ZERO, ZERO])[1] += money_value(row["total"])
    for row in later:
        sums.setdefault((row["open_item__account_id"], row["open_item__currency"]), [ZERO, ZERO])[1] -= money_value(row["total"])
    out = []
    for (account_id, currency), (ledger, subledger) in sorted(sums.items()):
        if ledger != subledger:
            account = accounts[account_id]
            out.append(f"{account.code} {account.name} in {currency}: control account {money_text(ledger, currency)}, "
                       f"open items {money_text(subledger, currency)}, difference {money_text(ledger - subledger, currency)}")
    return out


@transaction.atomic(durable=True)
def period_close(*, period_id: int, by: User, note: str = "") -> Period:
    return _change_period(period_id=period_id, to=Period.Status.CLOSED, by=by, note=note)


@transaction.atomic(durable=True)
def period_reopen(*, period_id: int, by: User, note: str) -> Period:
    """Reopen a closed period; the written reason is kept on the status-change row."""
    return _change_period(period_id=period_id, to=Period.Status.OPEN, by=by, note=note)
