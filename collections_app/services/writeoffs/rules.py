"""What every write-off step shares: the entity's policy (and setting it), the permission
check, the row lock, the checks on the open items and the approvals an amount needs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from billing.models import Invoice
from collections_app.models import Dispute
from collections_app.models.disputes import OPEN_DISPUTE_STATUSES
from collections_app.models.writeoffs import (
    LIVE_STATUSES,
    RecoveryMode,
    WriteOff,
    WriteOffLine,
    WriteOffPolicy,
)
from ledger.models import Account, LegalEntity, OpenItem
from ledger.services import fx_rate_for
from otc import dates
from otc.errors import (
    DomainError,
    PermissionDenied,
    ValidationFailed,
)
from otc.history import history_stamp
from otc.models import User
from otc.money import quantize

ALLOWANCE, EXPENSE, RECOVERY = Account.Role.ALLOWANCE, Account.Role.BAD_DEBT_EXPENSE, Account.Role.BAD_DEBT_RECOVERY
MAX_ATTACHMENT = 10 * 1024 * 1024


def require_permission(by: User | None, perm: str, what: str) -> None:
    if by is None or not by.has_perm(perm):
        raise PermissionDenied(f"Your role may not {what}.")


def policy_for(legal_entity_id: int) -> WriteOffPolicy:
    """The entity's write-off policy (an unsaved default one when none is set)."""
    return WriteOffPolicy.objects.filter(legal_entity_id=legal_entity_id).first() or WriteOffPolicy(
        legal_entity_id=legal_entity_id)


POLICY_FIELDS = ("use_allowance", "vat_relief", "recovery_mode", "second_approval_above", "small_balance_enabled",
                 "small_balance_max", "small_balance_min_age_days")


@transaction.atomic(durable=True)
def writeoff_policy_save(*, legal_entity_id: int, data: dict[str, Any], by: User) -> WriteOffPolicy:
    """Set an entity's write-off policy (a Controller): fields in POLICY_FIELDS."""
    require_permission(by, "collections_app.manage_writeoff_policy", "set write-off policies")
    if not LegalEntity.objects.filter(pk=legal_entity_id).exists():
        raise ValidationFailed(f"Legal entity {legal_entity_id} does not exist.")
    policy, _ = WriteOffPolicy.objects.select_for_update().get_or_create(legal_entity_id=legal_entity_id)
    for name in POLICY_FIELDS:
        if name in data:
            setattr(policy, name, data[name])
    if policy.recovery_mode not in RecoveryMode.values:
        raise ValidationFailed("Recoveries are reinstated or booked as income.", fields={"recovery_mode": ["invalid"]})
    for name in ("second_approval_above", "small_balance_max"):
        value = getattr(policy, name)
        if value is not None and (isinstance(value, float) or value < 0):
            raise ValidationFailed("Amounts are non-negative.", fields={name: ["invalid"]})
    history_stamp(policy, by=by)
    policy.save()
    return policy


# --- locks and checks -----------------------------------------------------------------------

def lock_write_off(write_off_id: int) -> WriteOff:
    write_off = WriteOff.objects.select_for_update(of=("self",)).filter(pk=write_off_id).first()
    if write_off is None:
        raise ValidationFailed(f"Write-off {write_off_id} does not exist.")
    return write_off


def _disputed(invoice_ids: list[int]) -> list[str]:
    rows = (Dispute.objects.filter(invoice_id__in=invoice_ids, status__in=OPEN_DISPUTE_STATUSES)
            .values_list("invoice__number", flat=True).distinct())
    return sorted(rows)


def refuse_disputed(invoice_ids: list[int]) -> None:
    numbers = _disputed(invoice_ids)
    if numbers:
        raise DomainError(f"{', '.join(numbers)} {'is' if len(numbers) == 1 else 'are'} under an open dispute: resolve "
                          "the dispute (credit note, rejection or withdrawal) before writing off.",
                          code="disputed", fields={"invoices": numbers})


def functional_amount(amount: Decimal, currency: str, entity: LegalEntity, on: dt.date) -> Decimal:
    rate = fx_rate_for(from_currency=currency, to_currency=entity.functional_currency, on=on)
    return quantize(amount * rate, entity.functional_currency)


def invoices_for_items(items: list[OpenItem]) -> dict[int, Invoice]:
    """Open item id -> the invoice it is the AR item of."""
    invoices = Invoice.objects.filter(open_item_id__in=[i.pk for i in items])
    return {invoice.open_item_id: invoice for invoice in invoices if invoice.open_item_id is not None}


def open_items_for(open_item_ids: list[int], invoice_ids: list[int]) -> list[OpenItem]:
    ids = set(open_item_ids)
    if invoice_ids:
        invoices = dict(Invoice.objects.filter(pk__in=invoice_ids).values_list("pk", "open_item_id"))
        missing = set(invoice_ids) - set(invoices)
        if missing:
            raise ValidationFailed(f"Invoice {min(missing)} does not exist.", fields={"invoices": ["unknown"]})
        for invoice_id, item_id in invoices.items():
            if item_id is None:
                raise ValidationFailed(f"Invoice {invoice_id} is not issued: nothing to write off.")
            ids.add(item_id)
    if not ids:
        raise ValidationFailed("Choose at least one invoice or open item to write off.", fields={"items": ["required"]})
    items = list(OpenItem.objects.select_related("account").filter(pk__in=sorted(ids)).order_by("pk"))
    if len(items) != len(ids):
        raise ValidationFailed("An open item to write off does not exist.", fields={"items": ["unknown"]})
    return items


def check_items(items: list[OpenItem], *, exclude_write_off: int | None = None) -> None:
    for item in items:
        if item.account.role != Account.Role.AR or item.original_amount <= 0:
            raise ValidationFailed(f"{item.document_number} is not a receivable (only AR debits are written off).")
        if item.open_amount <= 0:
            raise ValidationFailed(f"{item.document_number} has nothing open to write off.",
                                   fields={"items": [item.document_number]})
    if len({(i.legal_entity_id, i.customer_id, i.currency) for i in items}) != 1:
        raise ValidationFailed("One write-off covers one customer's items in one legal entity and currency.")
    live = (WriteOffLine.objects.filter(open_item__in=items, write_off__status__in=LIVE_STATUSES)
            .exclude(write_off_id=exclude_write_off).select_related("write_off").first())
    if live is not None:
        raise ValidationFailed(f"{live.document_number} is already in write-off {live.write_off} "
                               f"({live.write_off.get_status_display().lower()}).", fields={"items": ["in progress"]})


def required_approvals(write_off: WriteOff, entity: LegalEntity, policy: WriteOffPolicy) -> int:
    if policy.second_approval_above is None:
        return 1
    try:
        amount = functional_amount(write_off.amount, write_off.currency, entity, dates.today())
    except DomainError:  # no rate to the functional currency: the stricter chain
        return 2
    return 2 if amount > policy.second_approval_above else 1
