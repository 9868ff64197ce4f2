"""Changing a legal entity's finance policy: what finance accepts without escalation.

One entry point for the policy page (and any later API): it owns its transaction, checks the
Controller's permission, locks the policy row, validates with the model's rules (`full_clean`,
including the check constraints) and records who changed what and why (simple_history)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from ledger.models import LegalEntity
from otc.errors import InvalidAmount, NotFound, PermissionDenied, ValidationFailed
from otc.history import history_stamp
from otc.models import User
from otc.money import validate_currency

from .models import FinancePolicy

# What a Controller may change, in the order the form shows them.
POLICY_FIELDS: tuple[str, ...] = (
    "standard_payment_terms_days", "max_payment_terms_days", "max_discount_percent",
    "reviewer_max_value", "manager_max_value", "allowed_currencies",
    "high_risk_requires_prepayment", "high_risk_min_prepayment_percent", "credit_warning_percent",
    "max_free_periods", "min_renewal_notice_days", "arrears_max_months", "max_backdating_days",
)
DECIMAL_FIELDS = ("max_discount_percent", "reviewer_max_value", "manager_max_value",
                  "high_risk_min_prepayment_percent", "credit_warning_percent")


def parse_currency_list(value: Any) -> list[str]:
    """'eur, USD,,GBP' or ['eur', 'USD'] -> ['EUR', 'USD', 'GBP'] (ISO 4217, no duplicates, in
    the order given). Raises ValidationFailed naming every unknown code."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    codes: list[str] = []
    unknown: list[str] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            code = validate_currency(text)
        except InvalidAmount:
            unknown.append(text)
            continue
        if code not in codes:
            codes.append(code)
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        message = (f"{names} {'is not an ISO 4217 currency code' if len(unknown) == 1 else 'are not ISO 4217 currency codes'}"
                   f": use three-letter codes such as EUR, USD, GBP.")
        raise ValidationFailed(message, fields={"allowed_currencies": [message]})
    return codes


def _errors_from(exc: ValidationError) -> dict[str, list[str]]:
    errors = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    general = errors.pop(NON_FIELD_ERRORS, [])
    for message in general:  # the check constraints: put them on the field a person corrects
        field = "manager_max_value" if "manager" in message else (
            "max_payment_terms_days" if "terms" in message else NON_FIELD_ERRORS)
        errors.setdefault(field, []).append(message)
    return errors


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(f"The finance policy was not saved: {first}", fields=errors)


@transaction.atomic(durable=True)
def finance_policy_update(*, legal_entity_id: int, data: dict[str, Any], by: User) -> FinancePolicy:
    """Change the given fields of an entity's finance policy (others keep their values) and
    record the change with `data["reason"]` in the history. Amounts and percents are Decimal
    (never float); `allowed_currencies` a list of ISO codes or comma-separated text (empty:
    any currency). Money thresholds are in the entity's functional currency."""
    if not by.has_perm("contracts.manage_finance_policy"):
        raise PermissionDenied("Only a Controller may change the finance policy.")
    entity = LegalEntity.objects.filter(pk=legal_entity_id).first()
    if entity is None:
        raise NotFound("No such legal entity.")
    FinancePolicy.objects.get_or_create(legal_entity_id=entity.pk)
    policy = FinancePolicy.objects.select_for_update(of=("self",)).get(legal_entity_id=entity.pk)
    errors: dict[str, list[str]] = {}
    for field in POLICY_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "allowed_currencies":
            try:
                value = parse_currency_list(value)
            except ValidationFailed as exc:
                errors.update(exc.fields)
                continue
            if value and entity.functional_currency not in value:
                errors[field] = [f"Include {entity.functional_currency}, {entity.code}'s own currency, or leave the "
                                 f"list empty to allow any currency."]
                continue
        elif field in DECIMAL_FIELDS:
            if isinstance(value, float) or not isinstance(value, Decimal | int):
                errors[field] = ["Enter a number such as 15 or 100000.00 (never a float)."]
                continue
            if value < 0:
                errors[field] = ["Must not be negative."]
                continue
        setattr(policy, field, value)
    _raise(errors)
    try:
        policy.full_clean(exclude=["legal_entity"])
    except ValidationError as exc:
        _raise(_errors_from(exc))
    history_stamp(policy, by=by, reason=str(data.get("reason") or "").strip()[:100])
    policy.save()
    return policy
