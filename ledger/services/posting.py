"""The one posting service. Every financial event in every app posts through `journal_post`.

Rules (DESIGN.md, "Journal lines" and "Open items"):

- Amounts are signed Decimals (debit +, credit -) already quantised to their currency's minor
  unit; more decimals than the currency allows is refused, never silently rounded.
- A single-currency entry balances exactly in that currency. Its functional-currency amounts
  are converted line by line at one rate (stated, or the dated rate on the document date); the
  rounding residual (at most half a minor unit per line) goes to the largest line, so the entry
  balances in the functional currency too.
- A mixed-currency entry balances in the functional currency. Every foreign line is converted
  at a stated rate or the dated rate; with neither the entry is refused. A residual of at most
  one functional minor unit per foreign line is booked to the entity's rounding account as an
  extra line; a larger difference is refused.
- Unknown, inactive and other-entity accounts are refused; so is a role that the entity's chart
  lacks. A role shared by several accounts (revenue) resolves to the lowest account code.
- Subledger lines (AR, unapplied cash) carry a customer and either open a new open item or move
  an existing one of the same customer, account, currency and entity. An open item never moves
  past zero or past its original amount (no over-settlement).
- Documents dated in a closed period post to the first open period after it and keep their
  document date; manual journals are refused instead. The posting locks the period row so a
  concurrent close cannot slip in between the check and the insert.
- Entries and lines are immutable; `journal_reverse` posts the exact opposite as a new entry.

Lock order inside a posting: period, open items (primary-key order), numbering series.

`journal_post_batch` posts many entries of one entity, kind and date under the same rules with
a constant number of queries (the chart, rates and period read once, one block of numbers, bulk
inserts): the month-end run posts thousands of invoices this way. It is all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from customers.models import Customer
from ledger.models import Account, JournalEntry, JournalLine, LegalEntity, OpenItem, Period
from otc import dates
from otc.bulk import bulk_insert_rows, bulk_insert_values, bulk_update_values, new_instance
from otc.errors import DomainError, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import (
    MAX_DIGITS,
    STORAGE_PLACES,
    ZERO,
    minor_units,
    plausible_max,
    quantize,
    validate_currency,
)

from .numbering import number_series_take
from .periods import period_for_posting
from .rates import fx_rate_for

_MAX_ABS = Decimal(10) ** (MAX_DIGITS - STORAGE_PLACES)


class OverSettlement(DomainError):
    code = "over_settlement"
    http_status = 409


@dataclass(frozen=True)
class OpenItemSpec:
    """Open a new open item with this line (invoices, debits, unapplied cash)."""

    document_type: str
    document_number: str
    document_date: dt.date
    due_date: dt.date | None  # None: due on the document date, and the line says so (aging never drops it)


@dataclass(frozen=True)
class LineSpec:
    """One journal line. `amount` is signed in `currency` (default: the entry's currency):
    positive debits, negative credits. Give `account_id` or an account `role` (looked up in the
    entity's chart). Subledger lines (AR, unapplied cash) need `customer_id` and exactly one of
    `open_item` (open a new item) or `settle_item_id` (move an existing item by `amount`)."""

    amount: Decimal
    account_id: int | None = None
    role: str | None = None
    customer_id: int | None = None
    currency: str | None = None
    description: str = ""
    open_item: OpenItemSpec | None = None
    settle_item_id: int | None = None
    fx_rate: Decimal | None = None


@dataclass
class _Line:
    spec: LineSpec
    account: Account
    currency: str
    amount: Decimal
    rate: Decimal = Decimal(1)
    functional: Decimal = ZERO


def _fail(index: int, message: str) -> ValidationFailed:
    return ValidationFailed(f"Line {index}: {message}", fields={"lines": [index]})


class _Chart:
    """An entity's chart read once per posting (or per batch), with the FX rates looked up."""

    def __init__(self, entity: LegalEntity) -> None:
        self.entity = entity
        self.by_id: dict[int, Account] = {}
        self.by_role: dict[str, Account] = {}
        for account in Account.objects.filter(legal_entity=entity).order_by("code"):
            self.by_id[account.id] = account
            if account.is_active and account.role:
                self.by_role.setdefault(account.role, account)  # lowest code wins for shared roles
        self.rates: dict[tuple[str, dt.date], Decimal] = {}
        self.limits: dict[str, Decimal] = {}  # plausible_max per currency, read once per posting

    def plausible_max(self, currency: str) -> Decimal:
        if currency not in self.limits:
            self.limits[currency] = plausible_max(currency)
        return self.limits[currency]

    def foreign(self, ids: set[int]) -> dict[int, Account]:
        """Accounts named by id that are not in this entity's chart (to say whose they are)."""
        missing = ids - self.by_id.keys()
        return {a.id: a for a in Account.objects.filter(id__in=missing)} if missing else {}


def _resolve_accounts(chart: _Chart, lines: list[LineSpec]) -> list[Account]:
    entity = chart.entity
    others = chart.foreign({spec.account_id for spec in lines if spec.account_id})
    accounts = []
    for index, spec in enumerate(lines, start=1):
        if spec.account_id:
            account = chart.by_id.get(spec.account_id) or others.get(spec.account_id)
        elif spec.role:
            account = chart.by_role.get(spec.role)
        else:
            raise _fail(index, "name an account (account_id) or an account role.")
        if account is None:
            what = f"account id {spec.account_id}" if spec.account_id else f"an active account with role '{spec.role}'"
            raise _fail(index, f"{entity.code} has no {what}.")
        if account.legal_entity_id != entity.id:
            raise _fail(index, f"account {account.code} belongs to another legal entity.")
        if not account.is_active:
            raise _fail(index, f"account {account.code} {account.name} is inactive.")
        if spec.account_id and spec.role and account.role != spec.role:
            raise _fail(index, f"account {account.code} does not have the role '{spec.role}'.")
        accounts.append(account)
    return accounts


def _check_amount(index: int, value: Any, currency: str, limit: Decimal) -> Decimal:
    """The amount quantised to `currency`, refused if it has more decimals, is zero, or is not
    below `limit` (plausible_max(currency))."""
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        raise _fail(index, "amounts are Decimals, never floats.")
    amount = Decimal(value)
    if not amount.is_finite():
        raise _fail(index, "the amount is not a number.")
    rounded = quantize(amount, currency)
    if amount != rounded:
        raise _fail(index, f"{amount} has more decimals than {currency} allows ({minor_units(currency)}).")
    if amount == 0:
        raise _fail(index, "the amount is zero.")
    if abs(amount) >= _MAX_ABS:
        raise _fail(index, "the amount is too large.")
    if abs(amount) >= limit:
        raise _fail(index, f"{amount} {currency} is beyond the plausible maximum of {limit:,} {currency}.")
    return rounded


def _check_subledger(index: int, spec: LineSpec, account: Account) -> None:
    if account.is_subledger:
        if spec.customer_id is None:
            raise _fail(index, f"a line on {account.code} {account.name} needs a customer.")
        if (spec.open_item is None) == (spec.settle_item_id is None):
            raise _fail(index, f"a line on {account.code} must open a new open item or settle an existing one.")
        if (spec.open_item is not None and spec.open_item.due_date is not None
                and spec.open_item.due_date < spec.open_item.document_date):
            raise _fail(index, "the open item's due date is before its document date.")
    elif spec.open_item is not None or spec.settle_item_id is not None:
        raise _fail(index, "only AR and unapplied-cash lines carry open items.")


def _rates(lines: list[_Line], functional: str, on: dt.date, cache: dict[tuple[str, dt.date], Decimal]) -> None:
    """One rate per currency per entry: stated on the lines, else the dated rate."""
    stated: dict[str, Decimal] = {}
    for index, line in enumerate(lines, start=1):
        rate = line.spec.fx_rate
        if rate is None:
            continue
        if isinstance(rate, float) or not isinstance(rate, Decimal | int) or Decimal(rate) <= 0:
            raise _fail(index, "an FX rate is a positive Decimal.")
        rate = Decimal(rate)
        if line.currency == functional and rate != 1:
            raise _fail(index, f"a line in the functional currency {functional} has the rate 1, not {rate}.")
        if stated.setdefault(line.currency, rate) != rate:
            raise _fail(index, f"all {line.currency} lines of one entry use one FX rate.")
    for index, line in enumerate(lines, start=1):
        if line.currency == functional:
            continue
        if line.currency not in stated:
            if (line.currency, on) not in cache:
                try:
                    cache[line.currency, on] = fx_rate_for(from_currency=line.currency, to_currency=functional, on=on)
                except DomainError as exc:
                    raise _fail(index, f"{line.currency} is not the functional currency {functional} and no rate is "
                                       f"given: {exc.message}")
            stated[line.currency] = cache[line.currency, on]
        line.rate = stated[line.currency]


def _convert(lines: list[_Line], chart: _Chart) -> list[_Line]:
    """Fill functional amounts; return the extra rounding line a mixed entry may need."""
    entity = chart.entity
    functional = entity.functional_currency
    for line in lines:
        line.functional = quantize(line.amount * line.rate, functional)
    residual = sum((line.functional for line in lines), ZERO)
    if not residual:
        return []
    if len({line.currency for line in lines}) == 1:
        # A balanced single-currency entry must balance in the functional currency too.
        largest = max(range(len(lines)), key=lambda i: abs(lines[i].functional))
        lines[largest].functional -= residual
        return []
    foreign = sum(1 for line in lines if line.currency != functional)
    tolerance = Decimal(1).scaleb(-minor_units(functional)) * foreign
    if abs(residual) > tolerance:
        raise ValidationFailed(
            f"The entry does not balance in {functional}: debits and credits differ by "
            f"{quantize(residual, functional)} {functional} at the FX rates used.",
            fields={"lines": ["unbalanced"]},
        )
    rounding = chart.by_role.get(Account.Role.ROUNDING)
    if rounding is None:
        raise ValidationFailed(f"{entity.code} has no active rounding-differences account for an FX rounding residual.")
    spec = LineSpec(amount=-residual, account_id=rounding.id, currency=functional, description="FX rounding difference")
    return [_Line(spec=spec, account=rounding, currency=functional, amount=-residual, functional=-residual)]


class _LockedItem(NamedTuple):
    """What a posting needs of an open item it settles (read as a row: a statement's automatic
    applications lock thousands, and a model instance each cost more than the query)."""

    pk: int
    customer_id: int | None
    account_id: int
    currency: str
    legal_entity_id: int
    open_amount: Decimal
    original_amount: Decimal
    document_number: str


def _lock_items(ids: list[int]) -> dict[int, _LockedItem]:
    rows = (OpenItem.objects.select_for_update(of=("self",)).filter(id__any=sorted(set(ids))).order_by("pk")
            .values_list(*_LockedItem._fields))
    return {row[0]: _LockedItem(*row) for row in rows}


def _settlements(lines: list[_Line], entity: LegalEntity) -> dict[int, tuple[_LockedItem, Decimal]]:
    """Lock the open items the entry moves and refuse any movement past zero or the original."""
    items = _lock_items([line.spec.settle_item_id for line in lines if line.spec.settle_item_id])
    deltas: dict[int, Decimal] = defaultdict(Decimal)
    for index, line in enumerate(lines, start=1):
        item_id = line.spec.settle_item_id
        if item_id is None:
            continue
        item = items.get(item_id)
        if item is None:
            raise _fail(index, f"open item {item_id} does not exist.")
        if (item.customer_id, item.account_id, item.currency, item.legal_entity_id) != (
            line.spec.customer_id, line.account.id, line.currency, entity.id
        ):
            raise _fail(index, f"open item {item.document_number} is for another customer, account, currency or entity.")
        deltas[item_id] += line.amount
    moves = {}
    for item_id, delta in deltas.items():
        item = items[item_id]
        after, original, cur = item.open_amount + delta, item.original_amount, item.currency
        within = (0 <= after <= original) if original > 0 else (original <= after <= 0)
        if not within:
            raise OverSettlement(
                f"{item.document_number}: its open balance is {quantize(item.open_amount, cur)} {cur}; moving it by "
                f"{quantize(delta, cur)} would leave {quantize(after, cur)}, outside 0 to {quantize(original, cur)}.",
                fields={"open_item": [item.document_number]},
            )
        moves[item_id] = (item, delta)
    return moves


def _open_period(entity_id: int, document_date: dt.date, roll_forward: bool) -> tuple[Period, dt.date]:
    """The posting period, locked so that a concurrent close waits for this posting."""
    if connection.vendor == "postgresql":
        # The usual case in one statement: the document's own month, open, read and locked together.
        # A shared lock: postings of one entity run side by side (the month-end run's parallel
        # chunks), while a close (FOR UPDATE) still waits for every posting in the period.
        own = next(iter(Period.objects.raw(
            "SELECT * FROM ledger_period WHERE legal_entity_id = %s AND year = %s AND month = %s FOR SHARE",
            [entity_id, document_date.year, document_date.month])), None)
        if own is not None and own.status == Period.Status.OPEN:
            return own, document_date
    for _ in range(3):
        period, entry_date = period_for_posting(legal_entity_id=entity_id, date=document_date, roll_forward=roll_forward)
        if connection.vendor == "postgresql":  # a shared lock, as above
            with connection.cursor() as cursor:
                cursor.execute("SELECT status FROM ledger_period WHERE id = %s FOR SHARE", [period.pk])
                period.status = cursor.fetchone()[0]
            locked = period
        else:
            locked = Period.objects.select_for_update(of=("self",)).get(pk=period.pk)
        if locked.status == Period.Status.OPEN:
            return locked, entry_date
    raise DomainError(f"The period {period.label} was closed while posting; try again.")


def _check_entry(kind: str, by: User | None, entity: LegalEntity) -> None:
    if not entity.is_active:
        raise ValidationFailed(f"{entity.code} is not an active legal entity.")
    if kind not in JournalEntry.Kind.values:
        raise ValidationFailed(f"Unknown journal kind {kind!r}.")
    if kind == JournalEntry.Kind.MANUAL and (by is None or not by.has_perm("ledger.post_manual_journal")):
        raise PermissionDenied("Your role may not post manual journal entries.")


def _check_customers(lines: list[LineSpec]) -> None:
    customer_ids = {spec.customer_id for spec in lines if spec.customer_id}
    if customer_ids and Customer.objects.filter(id__any=customer_ids).count() != len(customer_ids):
        raise ValidationFailed("A line names a customer that does not exist.", fields={"lines": ["customer"]})


def _validate(chart: _Chart, lines: list[LineSpec], currency: str | None) -> list[_Line]:
    """One entry's lines checked against the chart (no queries once the chart is read)."""
    if len(lines) < 2:
        raise ValidationFailed("A journal entry needs at least two lines.")
    accounts = _resolve_accounts(chart, lines)
    out = []
    for index, (spec, account) in enumerate(zip(lines, accounts, strict=True), start=1):
        cur = validate_currency(spec.currency or currency or chart.entity.functional_currency)
        _check_subledger(index, spec, account)
        amount = _check_amount(index, spec.amount, cur, chart.plausible_max(cur))
        out.append(_Line(spec=spec, account=account, currency=cur, amount=amount))
    currencies = {line.currency for line in out}
    if len(currencies) == 1 and (total := sum((line.amount for line in out), ZERO)) != 0:
        cur = currencies.pop()
        raise ValidationFailed(
            f"The entry does not balance: debits and credits differ by {total} {cur}.", fields={"lines": ["unbalanced"]}
        )
    return out


def _prepare(chart: _Chart, lines: list[LineSpec], currency: str | None, document_date: dt.date,
             functional_amounts: list[Decimal] | None = None) -> list[_Line]:
    """Validated lines with their functional amounts (plus an FX rounding line when needed)."""
    work = _validate(chart, lines, currency)
    if functional_amounts is not None:  # a reversal: the exact opposite of the original
        for line, func in zip(work, functional_amounts, strict=True):
            line.rate, line.functional = Decimal(line.spec.fx_rate or 1), func
    else:
        _rates(work, chart.entity.functional_currency, document_date, chart.rates)
        work += _convert(work, chart)
    if sum((line.functional for line in work), ZERO) != 0:  # pragma: no cover - guaranteed above
        raise ValidationFailed(f"The entry does not balance in {chart.entity.functional_currency}.")
    return work


@dataclass(frozen=True)
class EntrySpec:
    """One entry of a `journal_post_batch`: its lines and what it documents."""

    lines: list[LineSpec]
    currency: str | None = None
    memo: str = ""
    source: Any = None
    source_reference: str = ""


def _write(
    *, entity: LegalEntity, kind: str, document_date: dt.date, entries: list[tuple[EntrySpec, list[_Line]]],
    by: User | None, roll_forward: bool, reverses_id: int | None = None, reserved_numbers: list[str] | None = None,
) -> list[JournalEntry]:
    """Lock the period and the settled items, take the numbers (or use `reserved_numbers`, taken
    earlier by `journal_numbers_reserve`), insert entries, items and lines."""
    if kind == JournalEntry.Kind.MANUAL:
        roll_forward = False  # a manual journal never moves silently into another period
    period, entry_date = _open_period(entity.id, document_date, roll_forward)
    moves = _settlements([line for _, work in entries for line in work], entity)
    if reserved_numbers is None:
        numbers = [f"JE-{entity.code}-{entry_date.year}-{n:06d}" for n in number_series_take(
            legal_entity_id=entity.id, doc_type="journal", fiscal_year=entry_date.year, count=len(entries))]
    else:
        numbers = list(reserved_numbers)
        prefix = f"JE-{entity.code}-{entry_date.year}-"
        if len(numbers) != len(entries) or not all(number.startswith(prefix) for number in numbers):
            raise DomainError(f"The reserved journal numbers do not fit {len(entries)} entries dated "
                              f"{entry_date.isoformat()} ({prefix}...): the period moved since they were reserved.")
    types: dict[type, ContentType] = {}
    rows: list[JournalEntry] = []
    for (spec, _), number in zip(entries, numbers, strict=True):
        source = spec.source
        source_type = None
        if source is not None:
            source_type = types.get(source.__class__) or types.setdefault(
                source.__class__, ContentType.objects.get_for_model(source.__class__))
        rows.append(new_instance(JournalEntry, {  # JournalEntry(legal_entity=entity, ...), a third of the cost
            "legal_entity_id": entity.pk, "number": number, "kind": kind, "entry_date": entry_date,
            "document_date": document_date, "period_id": period.pk, "memo": spec.memo[:255],
            "source_type_id": source_type.pk if source_type is not None else None,
            "source_id": source.pk if source is not None else None, "source_reference": spec.source_reference[:60],
            "reverses_id": reverses_id, "posted_by_id": by.pk if by is not None else None,
        }, {"legal_entity": entity, "period": period, "source_type": source_type, "posted_by": by}))
    created = bulk_insert_rows(rows)
    opened: list[tuple[_Line, OpenItem]] = []
    for entry, (_, work) in zip(created, entries, strict=True):
        for line in work:
            item = line.spec.open_item
            if item is not None:
                opened.append((line, new_instance(OpenItem, {
                    "legal_entity_id": entity.pk, "account_id": line.account.pk, "customer_id": line.spec.customer_id,
                    "currency": line.currency, "document_type": item.document_type,
                    "document_number": item.document_number, "document_date": item.document_date,
                    "due_date": item.due_date or item.document_date, "source_type_id": entry.source_type_id,
                    "source_id": entry.source_id, "original_amount": line.amount, "open_amount": line.amount,
                }, {"legal_entity": entity, "account": line.account, "source_type": entry.source_type})))
    bulk_insert_rows([item for _, item in opened])
    new_items = {id(line): item for line, item in opened}
    for entry, (_, work) in zip(created, entries, strict=True):
        entry.opened_items = [new_items[id(line)] for line in work if id(line) in new_items]
    new_lines = []
    for entry, (_, work) in zip(created, entries, strict=True):
        for line in work:
            line_spec = line.spec
            open_item = new_items.get(id(line)) or (
                moves[line_spec.settle_item_id][0] if line_spec.settle_item_id else None)
            description = line_spec.description
            if line_spec.open_item is not None and line_spec.open_item.due_date is None:
                description = f"{description} (no due date: due on the document date)".strip()
            new_lines.append((entry.pk, line.account.pk, line_spec.customer_id, line.currency, line.amount,
                              line.rate, line.functional, description[:255], open_item.pk if open_item else None))
    stamp = dates.now()
    # Recomputed under the row lock in exact Decimals: SQLite would do `open_amount + delta` in
    # floating point and could leave -0.0000000001 behind. One UPDATE per 500 items, not one per item
    # (a statement's automatic applications settle thousands).
    bulk_update_values(OpenItem, ["open_amount", "updated_at"],
                       [(item_id, item.open_amount + delta, stamp) for item_id, (item, delta) in moves.items()])
    bulk_insert_values(JournalLine, ["entry_id", "account_id", "customer_id", "currency", "amount", "fx_rate",
                                     "functional_amount", "description", "open_item_id"], new_lines)
    return created


def _entity(legal_entity_id: int) -> LegalEntity:
    try:
        return LegalEntity.objects.get(pk=legal_entity_id)
    except LegalEntity.DoesNotExist:
        raise ValidationFailed(f"Legal entity {legal_entity_id} does not exist.")


def _post(
    *, legal_entity_id: int, kind: str, document_date: dt.date, lines: list[LineSpec], by: User | None,
    currency: str | None, memo: str, source: Any, source_reference: str, roll_forward: bool,
    reverses_id: int | None, functional_amounts: list[Decimal] | None = None,
) -> JournalEntry:
    entity = _entity(legal_entity_id)
    _check_entry(kind, by, entity)
    work = _prepare(_Chart(entity), lines, currency, document_date, functional_amounts)
    _check_customers(lines)
    spec = EntrySpec(lines=lines, currency=currency, memo=memo, source=source, source_reference=source_reference)
    return _write(entity=entity, kind=kind, document_date=document_date, entries=[(spec, work)], by=by,
                  roll_forward=roll_forward, reverses_id=reverses_id)[0]


@transaction.atomic
def journal_post(
    *,
    legal_entity_id: int,
    kind: str,
    document_date: dt.date,
    lines: list[LineSpec],
    by: User | None,
    currency: str | None = None,
    memo: str = "",
    source: Any = None,
    source_reference: str = "",
    roll_forward: bool = True,
    reverses_id: int | None = None,
) -> JournalEntry:
    """Post one balanced, immutable journal entry (rules in the module docstring). Runs inside
    the caller's transaction (billing, receipts) so the event and its posting commit together."""
    return _post(
        legal_entity_id=legal_entity_id, kind=kind, document_date=document_date, lines=lines, by=by,
        currency=currency, memo=memo, source=source, source_reference=source_reference,
        roll_forward=roll_forward, reverses_id=reverses_id,
    )


@transaction.atomic
def journal_post_batch(
    *,
    legal_entity_id: int,
    kind: str,
    document_date: dt.date,
    entries: list[EntrySpec],
    by: User | None,
    roll_forward: bool = True,
    reserved_numbers: list[str] | None = None,
) -> list[JournalEntry]:
    """Post many balanced entries of one entity, kind and document date, all or nothing, under
    the rules of `journal_post` (the module docstring) with a constant number of queries. Their
    journal numbers are consecutive, in the order given; or `reserved_numbers`, one per entry,
    reserved earlier by `journal_numbers_reserve` (so that postings of one entity need not wait
    for each other on the journal series: the month-end run's parallel chunks). A failing entry refuses the batch with
    "Entry n: ..." naming it. Returns the entries in the order given, each with `opened_items`:
    the open items its lines opened, in line order."""
    entity = _entity(legal_entity_id)
    _check_entry(kind, by, entity)
    if not entries:
        return []
    chart = _Chart(entity)
    prepared = []
    for index, spec in enumerate(entries, start=1):
        try:
            prepared.append((spec, _prepare(chart, spec.lines, spec.currency, document_date)))
        except ValidationFailed as exc:
            raise ValidationFailed(f"Entry {index} ({spec.source_reference or spec.memo}): {exc.message}",
                                   fields=exc.fields) from exc
    _check_customers([line for spec in entries for line in spec.lines])
    return _write(entity=entity, kind=kind, document_date=document_date, entries=prepared, by=by,
                  roll_forward=roll_forward, reserved_numbers=reserved_numbers)


def journal_numbers_reserve(*, legal_entity_id: int, document_date: dt.date, count: int,
                            roll_forward: bool = True) -> list[str]:
    """Take `count` journal numbers now (under the series lock, inside the caller's transaction)
    for entries dated `document_date` that `journal_post_batch(reserved_numbers=...)` posts later,
    in another transaction. The caller must post them (retrying until it does): a reserved number
    never posted is a gap. The year is the posting date's, after rolling forward past a closed
    period; if a close moves the date into another year before the posting, it is refused."""
    if count < 1:
        return []
    entity = _entity(legal_entity_id)
    _, entry_date = period_for_posting(legal_entity_id=legal_entity_id, date=document_date, roll_forward=roll_forward)
    return [f"JE-{entity.code}-{entry_date.year}-{n:06d}" for n in number_series_take(
        legal_entity_id=legal_entity_id, doc_type="journal", fiscal_year=entry_date.year, count=count)]


@transaction.atomic
def journal_reverse(*, entry_id: int, by: User | None, memo: str = "", document_date: dt.date | None = None) -> JournalEntry:
    """Post the exact opposite of an entry (same accounts, customers, open items, rates and
    functional amounts), dated `document_date` (default: the original's, rolled forward when
    its period is closed). An entry is reversed at most once; reversing a settled invoice is
    refused because its open item would go past zero."""
    original = JournalEntry.objects.select_for_update(of=("self",)).filter(pk=entry_id).first()
    if original is None:
        raise ValidationFailed(f"Journal entry {entry_id} does not exist.")
    if JournalEntry.objects.filter(reverses=original).exists():
        raise DomainError(f"{original.number} has already been reversed.", code="already_reversed")
    if original.kind == JournalEntry.Kind.MANUAL and (by is None or not by.has_perm("ledger.post_manual_journal")):
        raise PermissionDenied("Your role may not reverse manual journal entries.")
    originals = list(original.lines.order_by("id"))
    lines = [
        LineSpec(
            amount=-line.amount, account_id=line.account_id, customer_id=line.customer_id, currency=line.currency,
            description=f"Reversal: {line.description}"[:255], settle_item_id=line.open_item_id, fx_rate=line.fx_rate,
        )
        for line in originals
    ]
    return _post(
        legal_entity_id=original.legal_entity_id, kind=JournalEntry.Kind.REVERSAL,
        document_date=document_date or original.document_date, lines=lines, by=by, currency=None,
        memo=memo or f"Reversal of {original.number}", source=original.source,
        source_reference=original.source_reference, roll_forward=True, reverses_id=original.id,
        functional_amounts=[-line.functional_amount for line in originals],
    )
