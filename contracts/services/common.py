"""Shared pieces of the contract services: row locks, access checks and turning typed input
(forms, the API, the CRM) into model values with one error per bad field."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from django.db import models

from otc.errors import InvalidAmount, NotFound, PermissionDenied
from otc.history import history_stamp
from otc.models import User
from otc.money import check_plausible, check_plausible_quantity, parse_amount
from otc.services import ensure_transition, record_status_change
from otc.validation import Errors, input_name

from ..models import Contract, ContractLine, ContractVersion

CONTRACT_FIELDS: tuple[str, ...] = ("customer", "legal_entity", "title", "sales_owner", "crm_opportunity_id")
VERSION_FIELDS: tuple[str, ...] = (
    "currency", "start_date", "end_date", "auto_renew", "renewal_notice_days", "billing_frequency", "billing_timing",
    "payment_terms_days", "discount_percent", "po_number", "late_fee_percent", "prepayment_percent", "free_periods",
    "notes",
)
LINE_FIELDS: tuple[str, ...] = (
    "product", "kind", "description", "quantity", "unit_price", "discount_percent", "minimum_commitment",
    "milestone_date", "start_date", "end_date",
)
OPEN_STATES = ("draft", "submitted", "in_review", "changes_requested")


def lock_contracts(ids: list[int]) -> list[Contract]:
    """Lock contracts in primary-key order (one order everywhere avoids deadlocks)."""
    return list(Contract.objects.filter(pk__in=ids).order_by("pk").select_for_update(of=("self",)))


def lock_versions(ids: list[int]) -> list[ContractVersion]:
    return list(ContractVersion.objects.filter(pk__in=ids).order_by("pk").select_for_update(of=("self",)))


def lock_contract(contract_id: int) -> Contract:
    locked = lock_contracts([contract_id])
    if not locked:
        raise NotFound("No such contract.")
    return locked[0]


def lock_version(version_id: int) -> ContractVersion:
    """Lock a version and its contract (contract first: the same order everywhere)."""
    contract_id = ContractVersion.objects.filter(pk=version_id).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise NotFound("No such contract version.")
    contract = lock_contract(contract_id)
    version = lock_versions([version_id])[0]
    version.contract = contract
    return version


def ensure_access(contract: Contract, by: User, *, edit: bool = False) -> None:
    """NotFound for a contract the user may not see (a sales rep and another rep's contract);
    PermissionDenied for one they see but may not change."""
    if not by.has_perm("contracts.access_contract", contract):
        raise NotFound("No such contract.")
    if edit and not by.has_perm("contracts.edit_contract", contract):
        raise PermissionDenied(f"You may not change contract {contract.number}.")


def _value(field: models.Field, value: Any) -> Any:
    """Convert one input value for `field`, strictly; ValueError carries the message."""
    if value is None or (value == "" and field.null):
        if not field.null and isinstance(field, models.DateField | models.DecimalField | models.IntegerField):
            raise ValueError("This field is required.")
        return None
    if isinstance(field, models.DecimalField):
        if isinstance(value, float):
            raise ValueError('Send amounts as strings, e.g. "1234.50", not as floating-point numbers.')
        try:
            return parse_amount(value)
        except InvalidAmount as exc:
            raise ValueError(exc.message) from None
    if isinstance(field, models.BooleanField):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no", ""):
            return False
        raise ValueError("Use true or false.")
    if isinstance(field, models.DateField):
        if isinstance(value, dt.datetime):
            raise ValueError("Enter a date, not a date and time.")
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD.") from None
    if isinstance(field, models.ForeignKey | models.IntegerField):
        if isinstance(value, bool | float):
            raise ValueError("Enter a whole number.")
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number.") from None
    if isinstance(field, models.UUIDField):
        try:
            return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a line key (a UUID).") from None
    return str(value).strip()


def _plausible(name: str, value, instance: models.Model) -> None:
    """Quantities and prices beyond plausible sizes are typing or integration errors."""
    try:
        if name == "quantity":
            check_plausible_quantity(value)
        elif name in ("unit_price", "minimum_commitment"):
            currency = getattr(instance, "currency", None)  # a version has one, a line does not
            check_plausible(value, currency or "XTS")
    except InvalidAmount as exc:
        raise ValueError(exc.message) from None


def assign(instance: models.Model, data: dict[str, Any], names: tuple[str, ...], *, prefix: str = "") -> Errors:
    """Set the given fields of `instance` from `data` (keys by input name: `customer_id`);
    fields not in `data` keep their values. Returns conversion errors keyed `<prefix><name>`."""
    errors: Errors = {}
    for name in names:
        field = cast(models.Field, instance._meta.get_field(name))  # the names are concrete fields
        key = input_name(field)
        if key not in data and name not in data:
            continue
        raw = data[key] if key in data else data[name]
        if isinstance(raw, models.Model):
            raw = raw.pk
        try:
            value = _value(field, raw)
            if isinstance(field, models.DecimalField) and value is not None:
                _plausible(name, value, instance)
            setattr(instance, field.attname, value)
        except ValueError as exc:
            errors[f"{prefix}{key}"] = [str(exc)]
    return errors


def unknown_keys(data: dict[str, Any], allowed: set[str], *, prefix: str = "") -> Errors:
    return {f"{prefix}{key}": ["Unknown field."] for key in data if key not in allowed}


def allowed_names(model: type[models.Model], names: tuple[str, ...]) -> set[str]:
    out = set()
    for name in names:
        field = model._meta.get_field(name)
        out |= {name, input_name(field)}
    return out


LINE_INPUT = allowed_names(ContractLine, LINE_FIELDS) | {"line_key", "position"}


# --- status moves (the workflow and the lifecycle) ----------------------------------------------

def status_set(obj: Contract | ContractVersion, to: str, *, by: User | None, note: str = "",
               extra: list[str] | None = None) -> None:
    """Move a version (or contract) to `to` within its TRANSITIONS map, save with the `extra`
    fields, and record the status-change row (a stay in the same state, where the map allows it,
    is recorded too: a level's approval of a version that stays in review)."""
    ensure_transition(obj, to=to)
    before = obj.status
    obj.status = to
    history_stamp(obj, by=by)
    obj.save(update_fields=["status", "updated_at", *(extra or [])])
    record_status_change(obj, by=by, from_state=before, note=note)


def set_contract_status(contract: Contract, to: str, *, by: User | None, note: str = "",
                        extra: list[str] | None = None) -> None:
    """Set the contract's own status (it follows its versions); saved only when something changes,
    the status-change row only when the status does."""
    if contract.status == to and not extra:
        return
    before = contract.status
    contract.status = to
    history_stamp(contract, by=by)
    contract.save(update_fields=["status", "updated_at", *(extra or [])])
    if before != to:
        record_status_change(contract, by=by, from_state=before, note=note)
