"""The one posting service. Every financial event in every app posts through `journal_post`.

It refuses an unbalanced entry, an unknown or inactive account, an account of another entity,
mixed currencies without an FX rate, a subledger line without a customer and open item, and an
open-item movement that would over-settle. It stores an immutable entry pointing to its source
document, and opens or settles open items in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F

from customers.models import Customer
from ledger.models import Account, JournalEntry, JournalLine, LegalEntity, OpenItem
from otc.errors import DomainError, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import ZERO, quantize, validate_currency

from .numbering import number_series_take
from .periods import period_for_posting
from .rates import fx_rate_for


@dataclass(frozen=True)
class OpenItemSpec:
    """Open a new open item with this line (invoices, debits, unapplied cash)."""

    document_type: str
    document_number: str
    document_date: dt.date
    due_date: dt.date


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


def _resolve_accounts(entity: LegalEntity, lines: list[LineSpec]) -> list[Account]:
    ids = {spec.account_id for spec in lines if spec.account_id}
    roles = {spec.role for spec in lines if spec.role and not spec.account_id}
    by_id = {a.id: a for a in Account.objects.filter(id__in=ids)}
    by_role = {a.role: a for a in Account.objects.filter(legal_entity=entity, role__in=roles, is_active=True)}
    accounts = []
    for index, spec in enumerate(lines, start=1):
        account = by_id.get(spec.account_id) if spec.account_id else by_role.get(spec.role)
        if account is None:
            what = f"account id {spec.account_id}" if spec.account_id else f"an account with role '{spec.role}'"
            raise ValidationFailed(f"Line {index}: {entity.code} has no {what}.", fields={"lines": [index]})
        if account.legal_entity_id != entity.id:
            raise ValidationFailed(f"Line {index}: account {account.code} belongs to another legal entity.")
        if not account.is_active:
            raise ValidationFailed(f"Line {index}: account {account.code} is inactive.")
        accounts.append(account)
    return accounts


def _check_subledger(index: int, spec: LineSpec, account: Account) -> None:
    if account.is_subledger:
        if spec.customer_id is None:
            raise ValidationFailed(f"Line {index}: a line on {account.code} {account.name} needs a customer.")
        if (spec.open_item is None) == (spec.settle_item_id is None):
            raise ValidationFailed(
                f"Line {index}: a line on {account.code} must open a new open item or settle an existing one."
            )
    elif spec.open_item is not None or spec.settle_item_id is not None:
        raise ValidationFailed(f"Line {index}: only AR and unapplied-cash lines carry open items.")


def _functional_amounts(amounts: list[Decimal], rates: list[Decimal], functional: str, single_currency: bool) -> list[Decimal]:
    converted = [quantize(a * r, functional) for a, r in zip(amounts, rates, strict=True)]
    difference = sum(converted, ZERO)
    if difference and single_currency:
        # Each line rounds on its own; an entry balanced in its document currency must balance
        # in the functional currency too. Put the rounding difference on the largest line.
        largest = max(range(len(converted)), key=lambda i: abs(converted[i]))
        converted[largest] -= difference
    return converted


def _lock_items(ids: list[int]) -> dict[int, OpenItem]:
    return {i.id: i for i in OpenItem.objects.select_for_update().filter(id__in=sorted(ids)).order_by("pk")}


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
    """Post one balanced, immutable journal entry (see module docstring)."""
    entity = LegalEntity.objects.get(pk=legal_entity_id)
    if kind not in JournalEntry.Kind.values:
        raise ValidationFailed(f"Unknown journal kind {kind!r}.")
    if kind == JournalEntry.Kind.MANUAL and (by is None or not by.has_perm("ledger.post_manual_journal")):
        raise PermissionDenied("Your role may not post manual journal entries.")
    if len(lines) < 2:
        raise ValidationFailed("A journal entry needs at least two lines.")
    accounts = _resolve_accounts(entity, lines)
    functional = entity.functional_currency
    currencies = [validate_currency(spec.currency or currency or functional) for spec in lines]
    amounts: list[Decimal] = []
    for index, (spec, account, cur) in enumerate(zip(lines, accounts, currencies, strict=True), start=1):
        if isinstance(spec.amount, float):
            raise ValidationFailed("Journal amounts are Decimals, never floats.")
        amount = quantize(spec.amount, cur)
        if amount == 0:
            raise ValidationFailed(f"Line {index}: the amount is zero.")
        _check_subledger(index, spec, account)
        amounts.append(amount)

    single_currency = len(set(currencies)) == 1
    if single_currency:
        if sum(amounts, ZERO) != 0:
            raise ValidationFailed(
                f"The entry does not balance: debits and credits differ by {sum(amounts, ZERO)} {currencies[0]}."
            )
    elif any(spec.fx_rate is None for spec, cur in zip(lines, currencies, strict=True) if cur != functional):
        # Mixed currencies balance only in the functional currency, so every foreign line needs
        # its rate stated: a looked-up rate could silently unbalance the entry.
        raise ValidationFailed("An entry mixing currencies needs an explicit FX rate on every foreign-currency line.")

    period, entry_date = period_for_posting(legal_entity_id=entity.id, date=document_date, roll_forward=roll_forward)
    rates = [
        Decimal(1) if cur == functional else (spec.fx_rate or fx_rate_for(from_currency=cur, to_currency=functional, on=document_date))
        for spec, cur in zip(lines, currencies, strict=True)
    ]
    functional_amounts = _functional_amounts(amounts, rates, functional, single_currency)
    if not single_currency and sum(functional_amounts, ZERO) != 0:
        raise ValidationFailed(
            f"The entry does not balance in {functional}: it is off by {sum(functional_amounts, ZERO)}."
        )

    customer_ids = {spec.customer_id for spec in lines if spec.customer_id}
    if customer_ids and Customer.objects.filter(id__in=customer_ids).count() != len(customer_ids):
        raise ValidationFailed("A line names a customer that does not exist.")
    items = _lock_items([spec.settle_item_id for spec in lines if spec.settle_item_id])

    number = number_series_take(legal_entity_id=entity.id, doc_type="journal", fiscal_year=entry_date.year)[0]
    source_type = ContentType.objects.get_for_model(source.__class__) if source is not None else None
    entry = JournalEntry.objects.create(
        legal_entity=entity,
        number=f"JE-{entity.code}-{entry_date.year}-{number:06d}",
        kind=kind,
        entry_date=entry_date,
        document_date=document_date,
        period=period,
        memo=memo[:255],
        source_type=source_type,
        source_id=source.pk if source is not None else None,
        source_reference=source_reference[:60],
        reverses_id=reverses_id,
        posted_by=by,
    )

    new_lines = []
    item_deltas: dict[int, Decimal] = defaultdict(Decimal)
    for index, (spec, account, cur, amount, rate, func) in enumerate(
        zip(lines, accounts, currencies, amounts, rates, functional_amounts, strict=True), start=1
    ):
        open_item = None
        if spec.open_item is not None:
            open_item = OpenItem.objects.create(
                legal_entity=entity, account=account, customer_id=spec.customer_id, currency=cur,
                document_type=spec.open_item.document_type, document_number=spec.open_item.document_number,
                document_date=spec.open_item.document_date, due_date=spec.open_item.due_date,
                source_type=source_type, source_id=entry.source_id,
                original_amount=amount, open_amount=amount,
            )
        elif spec.settle_item_id is not None:
            open_item = items.get(spec.settle_item_id)
            if open_item is None:
                raise ValidationFailed(f"Line {index}: open item {spec.settle_item_id} does not exist.")
            if (open_item.customer_id, open_item.account_id, open_item.currency, open_item.legal_entity_id) != (
                spec.customer_id, account.id, cur, entity.id
            ):
                raise ValidationFailed(
                    f"Line {index}: open item {open_item.document_number} is for another customer, account, currency or entity."
                )
            item_deltas[open_item.id] += amount
        new_lines.append(JournalLine(
            entry=entry, account=account, customer_id=spec.customer_id, currency=cur, amount=amount,
            fx_rate=rate, functional_amount=func, description=spec.description[:255], open_item=open_item,
        ))

    for item_id, delta in item_deltas.items():
        item = items[item_id]
        after = item.open_amount + delta
        original = item.original_amount
        within = (0 <= after <= original) if original > 0 else (original <= after <= 0)
        if not within:
            raise DomainError(
                f"{item.document_number}: its open balance is {quantize(item.open_amount, item.currency)} {item.currency}; "
                f"moving it by {quantize(delta, item.currency)} would leave {quantize(after, item.currency)}, "
                f"outside 0 to {quantize(original, item.currency)}."
            )
        OpenItem.objects.filter(pk=item_id).update(open_amount=F("open_amount") + delta)
    JournalLine.objects.bulk_create(new_lines)
    return entry


@transaction.atomic
def journal_reverse(*, entry_id: int, by: User | None, memo: str = "", document_date: dt.date | None = None) -> JournalEntry:
    """Post the exact opposite of an entry (same accounts, customers and open items), dated
    `document_date` (default: the original's). An entry is reversed at most once."""
    original = JournalEntry.objects.select_for_update().get(pk=entry_id)
    if JournalEntry.objects.filter(reverses=original).exists():
        raise DomainError(f"{original.number} has already been reversed.")
    if original.kind == JournalEntry.Kind.MANUAL and (by is None or not by.has_perm("ledger.post_manual_journal")):
        raise PermissionDenied("Your role may not reverse manual journal entries.")
    lines = [
        LineSpec(
            amount=-line.amount, account_id=line.account_id, customer_id=line.customer_id, currency=line.currency,
            description=f"Reversal: {line.description}"[:255], settle_item_id=line.open_item_id,
            fx_rate=line.fx_rate,
        )
        for line in original.lines.all()
    ]
    return journal_post(
        legal_entity_id=original.legal_entity_id, kind=JournalEntry.Kind.REVERSAL,
        document_date=document_date or original.document_date, lines=lines, by=by,
        memo=memo or f"Reversal of {original.number}", source=original.source,
        source_reference=original.source_reference, reverses_id=original.id,
    )
