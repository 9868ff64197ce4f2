from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from ledger.models import Account, JournalLine, LegalEntity, OpenItem, Period
from otc import dates
from otc.aggregates import money_sum, money_value
from otc.errors import DomainError, PermissionDenied, ValidationFailed
from otc.history import history_stamp
from otc.models import User
from otc.money import ZERO, money_text
from otc.registry import registry
from otc.services import ensure_transition, record_status_change


def open_horizon_months() -> int:
    """How many months after the current one periods are kept open (setting LEDGER_OPEN_HORIZON_MONTHS)."""
    return max(0, int(getattr(settings, "LEDGER_OPEN_HORIZON_MONTHS", 3)))


def _month_key(year: int, month: int) -> int:
    return year * 12 + month - 1


def _month(key: int) -> tuple[int, int]:
    return key // 12, key % 12 + 1


def horizon_end(*, today: dt.date | None = None) -> tuple[int, int]:
    """The last month (year, month) that may be open: the current month plus the horizon."""
    today = today or dates.today()
    return _month(_month_key(today.year, today.month) + open_horizon_months())


def period_for_posting(*, legal_entity_id: int, date: dt.date, roll_forward: bool = True) -> tuple[Period, dt.date]:
    """The open period a posting dated `date` goes to, and the posting date.

    Periods are never created here: a Controller or the month-end schedule opens them
    (`period_open`, `periods_open_ahead`). A date in a closed period, before the entity's first
    period, or in a month with no period between two that exist, rolls forward to the first day
    of the next open period, keeping the document date on the entry; with roll_forward=False
    (manual journals) it is refused. A date after the last opened period is past the open horizon
    and refused."""
    periods = Period.objects.filter(legal_entity_id=legal_entity_id)
    period = periods.filter(year=date.year, month=date.month).first()
    if period is not None and period.status == Period.Status.OPEN:
        return period, date
    label = f"{date.year}-{date.month:02d}"
    if period is None:
        latest = periods.order_by("-year", "-month").first()
        if latest is None:
            raise DomainError("No accounting period is open for this legal entity yet; a Controller opens one.",
                              code="period_not_open")
        if _month_key(date.year, date.month) > _month_key(latest.year, latest.month):
            raise DomainError(
                f"{date.isoformat()} is past the open horizon: periods are open up to {latest.label}. Periods open "
                f"{open_horizon_months()} months ahead (a Controller or the month-end schedule opens them); "
                "check the date.", fields={"date": ["past the open horizon"]}, code="period_not_open")
    if not roll_forward:
        if period is None:
            raise DomainError(f"There is no accounting period {label}; post into an open period.", code="period_not_open")
        raise DomainError(f"The period {period.label} is closed; post into an open period.")
    candidate = (
        periods.filter(status=Period.Status.OPEN)
        .filter(Q(year__gt=date.year) | Q(year=date.year, month__gt=date.month))
        .order_by("year", "month").first()
    )
    if candidate is None:
        raise DomainError(f"No accounting period after {label} is open; a Controller opens the next period.",
                          code="period_not_open")
    return candidate, candidate.start


def _ensure_opener(by: User | None) -> None:
    if by is not None and not by.has_perm("ledger.manage_periods"):
        raise PermissionDenied("Only a Controller may open accounting periods.")


def _open_months(entity_id: int, through: int, by: User | None, *, first: int) -> list[Period]:
    latest = Period.objects.filter(legal_entity_id=entity_id).order_by("-year", "-month").first()
    start = _month_key(latest.year, latest.month) + 1 if latest else first
    created = []
    for key in range(start, through + 1):
        year, month = _month(key)
        period = Period(legal_entity_id=entity_id, year=year, month=month)
        history_stamp(period, by=by, reason="Opened" if by else "Opened by the month-end schedule")
        period.save()
        created.append(period)
    return created


@transaction.atomic(durable=True)
def period_open(*, legal_entity_id: int, by: User | None, today: dt.date | None = None) -> Period:
    """Open the month after the entity's latest period (the current month for an entity with
    none). Months open in order, never past the open horizon (the current month plus
    LEDGER_OPEN_HORIZON_MONTHS). `by` None is the schedule."""
    _ensure_opener(by)
    entity = LegalEntity.objects.select_for_update(of=("self",)).filter(pk=legal_entity_id).first()
    if entity is None:
        raise ValidationFailed(f"Legal entity {legal_entity_id} does not exist.")
    today = today or dates.today()
    latest = Period.objects.filter(legal_entity_id=entity.pk).order_by("-year", "-month").first()
    key = _month_key(latest.year, latest.month) + 1 if latest else _month_key(today.year, today.month)
    limit = _month_key(*horizon_end(today=today))
    if key > limit:
        year, month = _month(limit)
        raise DomainError(f"{entity.code}: periods may be opened up to {year}-{month:02d} "
                          f"({open_horizon_months()} months ahead); {_month(key)[0]}-{_month(key)[1]:02d} is past the "
                          "open horizon.", code="period_not_open")
    return _open_months(entity.pk, key, by, first=key)[0]


@transaction.atomic  # not durable: the demo seeding calls it inside its own transaction
def periods_open_ahead(*, by: User | None = None, today: dt.date | None = None) -> int:
    """The month-end schedule: every active entity gets its periods opened, in order, through
    the open horizon (an entity without periods starts at the current month). Idempotent: a
    second run opens nothing. Returns how many periods were opened."""
    _ensure_opener(by)
    today = today or dates.today()
    through = _month_key(*horizon_end(today=today))
    opened = 0
    for entity in LegalEntity.objects.filter(is_active=True).select_for_update(of=("self",)).order_by("pk"):
        opened += len(_open_months(entity.pk, through, by, first=_month_key(today.year, today.month)))
    return opened


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
    history_stamp(period, by=by, reason=note.strip()[:100])
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
    for moved in later:
        key = (moved["open_item__account_id"], moved["open_item__currency"])
        sums.setdefault(key, [ZERO, ZERO])[1] -= money_value(moved["total"])
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
