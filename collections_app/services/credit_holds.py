"""Credit holds: the entity's policy, the daily task placing and auto-releasing holds, and the
release by a Finance Manager within the credit-release approval limit (otc ApprovalLimit, kind
credit_release, in the entity's functional currency) covering the customer's overdue amount.
Whoever placed a hold by hand never releases it (segregation of duties)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from collections_app.models import CreditHold, CreditHoldPolicy
from collections_app.selectors.credit_holds import overdue_positions
from ledger.models import LegalEntity
from otc import dates
from otc.errors import (
    InvalidTransition,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    SegregationOfDuties,
    ValidationFailed,
)
from otc.models import ApprovalLimit, User
from otc.money import money_text
from otc.services import approval_limit, record_status_change


def _require(by: User | None, perm: str, what: str) -> None:
    if by is not None and not by.has_perm(perm):
        raise PermissionDenied(f"Your role may not {what}.")


@transaction.atomic
def credit_hold_policy_save(*, legal_entity_id: int, by: User | None, overdue_days: int | None = None,
                            overdue_amount: Decimal | None = None, auto_release: bool = True,
                            is_active: bool = True) -> CreditHoldPolicy:
    _require(by, "collections_app.manage_dunning_policy", "set credit-hold policies")
    if overdue_days is None and overdue_amount is None:
        raise ValidationFailed("Set overdue days, an overdue amount, or both.", fields={"overdue_days": ["required"]})
    if overdue_amount is not None and overdue_amount < 0:
        raise ValidationFailed("The overdue amount cannot be negative.", fields={"overdue_amount": ["negative"]})
    policy, _ = CreditHoldPolicy.objects.update_or_create(legal_entity_id=legal_entity_id, defaults={
        "overdue_days": overdue_days, "overdue_amount": overdue_amount, "auto_release": auto_release,
        "is_active": is_active, "updated_by": by})
    return policy


def _breach(policy: CreditHoldPolicy, pos: dict[str, Any], currency: str) -> str | None:
    why = []
    if policy.overdue_days is not None and pos["oldest_days"] > policy.overdue_days:
        why.append(f"oldest invoice {pos['oldest_days']} days overdue (policy: over {policy.overdue_days})")
    if policy.overdue_amount is not None and pos["overdue"] > policy.overdue_amount:
        why.append(f"{money_text(pos['overdue'], currency)} overdue (policy: over "
                   f"{money_text(policy.overdue_amount, currency)})")
    return "; ".join(why) or None


@transaction.atomic
def credit_holds_apply(*, legal_entity_id: int, as_of: dt.date | None = None) -> dict[str, int]:
    """Place holds on the entity's customers past its policy, with the reason, and release
    automatically (when the policy says so) the holds of customers with nothing overdue."""
    as_of = as_of or dates.today()
    policy = CreditHoldPolicy.objects.select_for_update().filter(legal_entity_id=legal_entity_id,
                                                                 is_active=True).first()
    if policy is None:
        return {"placed": 0, "released": 0}
    currency = LegalEntity.objects.values_list("functional_currency", flat=True).get(pk=legal_entity_id)
    positions = overdue_positions(legal_entity_id=legal_entity_id, functional=currency, as_of=as_of)
    active = {h.customer_id: h for h in CreditHold.objects.select_for_update().filter(
        legal_entity_id=legal_entity_id, status=CreditHold.Status.ACTIVE)}
    new = []
    for customer_id, pos in sorted(positions.items()):
        if customer_id in active:
            continue
        reason = _breach(policy, pos, currency)
        if reason:
            new.append(CreditHold(legal_entity_id=legal_entity_id, customer_id=customer_id, reason=reason[:400],
                                  currency=currency, overdue_amount=pos["overdue"], oldest_days=pos["oldest_days"]))
    CreditHold.objects.bulk_create(new, batch_size=1000)
    released = 0
    if policy.auto_release:
        paid = [h.pk for cid, h in active.items() if cid not in positions]
        released = CreditHold.objects.filter(pk__in=paid).update(
            status=CreditHold.Status.RELEASED, released_at=dates.now(),
            release_reason="Released automatically: nothing overdue any more (paid).")
    return {"placed": len(new), "released": released}


def credit_holds_daily(*, as_of: dt.date | None = None) -> dict[str, int]:
    totals = {"placed": 0, "released": 0}
    for entity_id in CreditHoldPolicy.objects.filter(is_active=True).values_list("legal_entity_id", flat=True):
        for key, value in credit_holds_apply(legal_entity_id=entity_id, as_of=as_of).items():
            totals[key] += value
    return totals


@transaction.atomic
def credit_hold_place(*, legal_entity_id: int, customer_id: int, by: User, reason: str) -> CreditHold:
    """Put a customer on credit hold by hand (a collector's judgement), saying why."""
    _require(by, "collections_app.release_credit_hold", "put customers on credit hold")
    if not (reason or "").strip():
        raise ValidationFailed("Say why the customer goes on credit hold.", fields={"reason": ["required"]})
    if CreditHold.objects.filter(legal_entity_id=legal_entity_id, customer_id=customer_id,
                                 status=CreditHold.Status.ACTIVE).exists():
        raise InvalidTransition("The customer is already on credit hold in this entity.")
    currency = LegalEntity.objects.values_list("functional_currency", flat=True).get(pk=legal_entity_id)
    pos = overdue_positions(legal_entity_id=legal_entity_id, functional=currency, as_of=dates.today(),
                            customer_ids=[customer_id]).get(customer_id, {"overdue": 0, "oldest_days": 0})
    return CreditHold.objects.create(legal_entity_id=legal_entity_id, customer_id=customer_id, placed_by=by,
                                     reason=reason.strip()[:400], currency=currency, overdue_amount=pos["overdue"],
                                     oldest_days=pos["oldest_days"])


@transaction.atomic
def credit_hold_release(*, hold_id: int, by: User, reason: str) -> CreditHold:
    """Release a hold: a Finance Manager (or Controller) whose credit-release approval limit covers
    the customer's overdue amount today, who did not place the hold, says why."""
    _require(by, "collections_app.release_credit_hold", "release customers from credit hold")
    hold = CreditHold.objects.select_for_update().select_related("customer").filter(pk=hold_id).first()
    if hold is None:
        raise NotFound(f"Credit hold {hold_id} does not exist.")
    if hold.status != CreditHold.Status.ACTIVE:
        raise InvalidTransition("This credit hold was already released.")
    if not (reason or "").strip():
        raise ValidationFailed("Say why the customer is released from credit hold.", fields={"reason": ["required"]})
    if hold.placed_by_id == by.pk:
        raise SegregationOfDuties("You put this customer on hold; another person must release it.")
    pos = overdue_positions(legal_entity_id=hold.legal_entity_id, functional=hold.currency, as_of=dates.today(),
                            customer_ids=[hold.customer_id]).get(hold.customer_id)
    exposure = pos["overdue"] if pos else Decimal(0)
    limit = approval_limit(user=by, kind=ApprovalLimit.Kind.CREDIT_RELEASE, currency=hold.currency,
                           legal_entity_id=hold.legal_entity_id)
    if exposure > limit:
        raise LimitExceeded(
            f"{hold.customer.name} has {money_text(exposure, hold.currency)} overdue; your credit-release limit is "
            f"{money_text(limit, hold.currency)}. Ask someone with a higher limit (the Controller).")
    hold.status, hold.released_at, hold.released_by = CreditHold.Status.RELEASED, dates.now(), by
    hold.release_reason = reason.strip()[:400]
    hold.save(update_fields=["status", "released_at", "released_by", "release_reason"])
    record_status_change(hold, by=by, from_state=CreditHold.Status.ACTIVE, note=hold.release_reason)
    return hold
