"""Drafting contracts: create, edit the editable version, and the CRM upsert.

Each entry point owns its transaction, checks the permission and the object rule, validates
with the model's rules (`full_clean`, errors named like `lines[2].unit_price`), writes the
contract, its version and lines, and re-runs the risk assessment so the stored assessment
always matches the terms."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction

from customers.models import Customer
from otc import dates
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.history import history_stamp
from otc.models import User
from otc.services import counter_next, record_status_change
from otc.validation import Errors, model_errors, raise_if_errors

from ..assessment import contract_assess
from ..models import Contract, ContractLine, ContractVersion, Product
from .common import (
    CONTRACT_FIELDS,
    LINE_FIELDS,
    VERSION_FIELDS,
    assign,
    ensure_access,
    lock_version,
)


def next_contract_number() -> str:
    return f"CT-{dates.today().year}-{counter_next(name='contract')[0]:05d}"


def _merge(errors: Errors, more: Errors) -> None:
    for key, messages in more.items():
        errors.setdefault(key, messages)


def build_lines(version: ContractVersion, items: list[dict[str, Any]]) -> tuple[list[ContractLine], Errors]:
    """Unsaved lines for `version` from input dicts; a given `line_key` is kept (the line's
    identity across versions), otherwise a new one is made."""
    errors: Errors = {}
    lines: list[ContractLine] = []
    seen: set[uuid.UUID] = set()
    if not isinstance(items, list | tuple):
        return [], {"lines": ["Send a list of lines."]}
    product_ids = {item.get("product_id") for item in items if isinstance(item, dict)}
    inactive = set(Product.objects.filter(pk__in=[p for p in product_ids if isinstance(p, int)], is_active=False)
                   .values_list("pk", flat=True))
    for index, item in enumerate(items):
        prefix = f"lines[{index}]."
        if not isinstance(item, dict):
            errors[f"lines[{index}]"] = ["Each line is an object."]
            continue
        line = ContractLine(version=version, position=index + 1)
        _merge(errors, assign(line, item, LINE_FIELDS + ("line_key",), prefix=prefix))
        if not item.get("line_key"):
            line.line_key = uuid.uuid4()
        elif line.line_key in seen:
            errors.setdefault(f"{prefix}line_key", ["This line key appears twice in the contract."])
        seen.add(line.line_key)
        skip = None
        if line.kind == ContractLine.Kind.MILESTONE and line.milestone_date is None:
            errors.setdefault(f"{prefix}milestone_date", ["A milestone needs its date."])
            skip = {"__all__"}  # the same rule as the check constraint, named by its field
        _merge(errors, model_errors(line, prefix=prefix, exclude=("version",), skip=skip))
        if line.product_id in inactive:
            errors.setdefault(f"{prefix}product_id", ["This product is no longer sold."])
        if line.start_date and line.end_date and line.end_date < line.start_date:
            errors.setdefault(f"{prefix}end_date", ["The line ends before it starts."])
        lines.append(line)
    if not items:
        errors.setdefault("lines", ["A contract needs at least one line."])
    return lines, errors


def _save_lines(version: ContractVersion, lines: list[ContractLine]) -> None:
    for line in lines:
        line.version = version
    ContractLine.objects.bulk_create(lines)


def _save(obj, *, by: User, fields: list[str] | None = None, reason: str = "") -> None:
    history_stamp(obj, by=by, reason=reason)
    obj.save(update_fields=fields) if fields else obj.save()


def _check_customer(contract: Contract, by: User, errors: Errors) -> None:
    if "customer_id" in errors or not contract.customer_id:
        return
    customer = Customer.objects.filter(pk=contract.customer_id).first()
    if customer is None or not by.has_perm("customers.access_customer", customer):
        errors["customer_id"] = ["No such customer."]


def contract_create_in_transaction(*, data: dict[str, Any], lines: list[dict[str, Any]], by: User) -> Contract:
    """contract_create's work, inside the caller's transaction (the upsert by CRM id shares it)."""
    if not by.has_perm("contracts.add_contract"):
        raise PermissionDenied("Your role may not create contracts.")
    errors: Errors = {}
    contract = Contract(created_by=by)
    _merge(errors, assign(contract, data, CONTRACT_FIELDS))
    _check_customer(contract, by, errors)
    if not data.get("sales_owner_id") and not data.get("sales_owner") and "customer_id" not in errors:
        owner = Customer.objects.filter(pk=contract.customer_id).values_list("sales_owner_id", flat=True).first()
        contract.sales_owner_id = owner or by.id
    _merge(errors, model_errors(contract, exclude=("number", "current_version", "created_by")))

    version = ContractVersion(contract=contract, version=1, created_by=by)
    _merge(errors, assign(version, data, VERSION_FIELDS))
    version.effective_date = version.start_date
    _merge(errors, model_errors(version, exclude=("contract", "effective_date")))
    built, line_errors = build_lines(version, lines)
    _merge(errors, line_errors)
    raise_if_errors(errors)

    contract.number = next_contract_number()
    _save(contract, by=by, reason="created")
    version.contract = contract
    _save(version, by=by, reason="created")
    _save_lines(version, built)
    contract.current_version = version
    _save(contract, by=by, fields=["current_version", "updated_at"])
    record_status_change(version, by=by, from_state="", note="created")
    contract_assess(version_id=version.id)
    return contract


@transaction.atomic(durable=True)
def contract_create(*, data: dict[str, Any], lines: list[dict[str, Any]], by: User) -> Contract:
    """Create a contract (number CT-<year>-<n>) with its version 1 as a draft and its lines,
    and assess it. `data`: customer_id, legal_entity_id, title, sales_owner_id (default: the
    customer's owner, else `by`), crm_opportunity_id and the version terms."""
    return contract_create_in_transaction(data=data, lines=lines, by=by)


def contract_version_update_locked(*, version: ContractVersion, data: dict[str, Any],
                                   lines: list[dict[str, Any]] | None, by: User) -> ContractVersion:
    """The work of contract_version_update on a locked version, inside the caller's transaction."""
    contract = version.contract
    if not by.has_perm("contracts.change_contract"):
        raise PermissionDenied("Your role may not change contracts.")
    ensure_access(contract, by, edit=True)
    if not version.is_editable:
        raise InvalidTransition(
            f"{contract.number} v{version.version} is {version.get_status_display().lower()}: only a draft or a "
            "version with changes requested can be edited.")
    errors: Errors = {}
    contract_fields: tuple[str, ...] = ("title", "sales_owner", "crm_opportunity_id")
    if version.version == 1:
        contract_fields = CONTRACT_FIELDS
    elif {"customer_id", "legal_entity_id", "customer", "legal_entity"} & set(data):
        changed = [k for k in ("customer_id", "legal_entity_id") if k in data
                   and data[k] not in (getattr(contract, k), str(getattr(contract, k)))]
        for key in changed:
            errors[key] = ["An amendment keeps the contract's customer and legal entity."]
    _merge(errors, assign(contract, data, contract_fields))
    _check_customer(contract, by, errors)
    _merge(errors, model_errors(contract, exclude=("current_version", "created_by")))
    _merge(errors, assign(version, data, VERSION_FIELDS + (("effective_date",) if version.amends_id else ())))
    if version.version == 1:
        version.effective_date = version.start_date
    _merge(errors, model_errors(version, exclude=("contract",)))
    if version.amends is not None and "effective_date" not in errors:
        _merge(errors, amendment_date_errors(version.amends, version.effective_date))
    built: list[ContractLine] = []
    if lines is not None:
        built, line_errors = build_lines(version, lines)
        _merge(errors, line_errors)
    raise_if_errors(errors)
    if version.override_by_id:  # the override accepted the terms as they were: edited terms need a new one
        version.override_by, version.override_at, version.override_reason = None, None, ""
    _save(contract, by=by, reason="edited")
    _save(version, by=by, reason="edited")
    if lines is not None:
        version.lines.all().delete()
        _save_lines(version, built)
    contract_assess(version_id=version.id)
    return version


def amendment_date_errors(amended: ContractVersion, effective_date) -> Errors:
    if effective_date is None:
        return {"effective_date": ["Enter the date the amendment takes effect."]}
    if effective_date <= amended.effective_date:
        return {"effective_date": [f"An amendment takes effect after the version it amends "
                                   f"(in force from {amended.effective_date:%Y-%m-%d})."]}
    if amended.end_date and effective_date > amended.end_date:
        return {"effective_date": [f"The contract ends on {amended.end_date:%Y-%m-%d}; amend within its term."]}
    return {}


@transaction.atomic(durable=True)
def contract_version_update(*, version_id: int, data: dict[str, Any], lines: list[dict[str, Any]] | None,
                            by: User) -> ContractVersion:
    """Change a draft (or a version with changes requested): the given fields, and all lines
    when `lines` is given (a line keeps its identity through its `line_key`). Re-assesses."""
    return contract_version_update_locked(version=lock_version(version_id), data=data, lines=lines, by=by)


@transaction.atomic(durable=True)
def contract_upsert_by_crm_id(*, crm_opportunity_id: str, data: dict[str, Any], lines: list[dict[str, Any]],
                              by: User) -> tuple[Contract, bool]:
    """Create the contract the CRM knows as `crm_opportunity_id`, or update its editable
    version. Returns (contract, created). A contract under review, approved or active is not
    changed by an upsert: amend it instead."""
    crm_id = str(crm_opportunity_id or "").strip()
    if not crm_id:
        raise ValidationFailed("Please correct: crm_opportunity_id: Enter the CRM opportunity id.",
                               fields={"crm_opportunity_id": ["Enter the CRM opportunity id."]})
    data = {**data, "crm_opportunity_id": crm_id}
    existing = Contract.objects.filter(crm_opportunity_id=crm_id).values_list("pk", flat=True).first()
    if existing is None:
        try:
            with transaction.atomic():
                return contract_create_in_transaction(data=data, lines=lines, by=by), True
        except (IntegrityError, ValidationFailed) as exc:
            # Another call created this opportunity meanwhile: update that one instead.
            existing = Contract.objects.filter(crm_opportunity_id=crm_id).values_list("pk", flat=True).first()
            if existing is None:
                raise
            if isinstance(exc, ValidationFailed) and set(exc.fields) != {"crm_opportunity_id"}:
                raise
    latest = ContractVersion.objects.filter(contract_id=existing).order_by("-version").values_list("pk", flat=True)[0]
    version = lock_version(latest)
    ensure_access(version.contract, by, edit=True)
    if not version.is_editable:
        raise InvalidTransition(
            f"{version.contract.number} v{version.version} is {version.get_status_display().lower()} and can no "
            "longer be changed by an upsert: amend it instead.")
    contract_version_update_locked(version=version, data=data, lines=lines, by=by)
    return version.contract, False
