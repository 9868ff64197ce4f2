"""Turning input (typed values from forms and the API, text from spreadsheets) into customer
field values, and model validation into `ValidationFailed` with one entry per bad field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar, cast

from django.db import models

from otc.errors import InvalidAmount
from otc.models import User
from otc.money import check_plausible, parse_amount, quantize, validate_currency
from otc.validation import Errors, model_errors

from ..models import Contact, Customer

# The customer fields a person or an integration may change (account_number is generated).
EDITABLE_FIELDS: tuple[str, ...] = (
    "legal_name", "display_name", "parent", "country", "address_line1", "address_line2", "city", "region",
    "postal_code", "tax_id", "tax_exempt", "tax_exemption_reference", "default_currency", "payment_terms_days",
    "credit_limit", "risk_rating", "status", "status_reason", "sales_owner", "invoice_delivery",
    "procurement_portal", "portal_supplier_id", "portal_buyer_id", "peppol_scheme", "peppol_id", "po_required", "external_crm_id", "notes",
)
CONTACT_FIELDS: tuple[str, ...] = ("name", "email", "phone", "role", "is_billing_contact")
# Finance owns these (DESIGN.md "Finance owns finance fields"): they change only in the app,
# through their roles, with history. Integrations read them and never write them: a value sent
# unchanged is accepted (a CRM syncing whole records), a change is refused naming the fields.
FINANCE_FIELDS: tuple[str, ...] = (
    "status", "status_reason", "credit_limit", "risk_rating", "tax_exempt", "tax_exemption_reference",
    "payment_terms_days", "dunning_excluded", "dunning_exclusion_reason",
)
# A customer hierarchy deeper than this is a data error (and the loop check stops there).
MAX_PARENT_DEPTH = 20

_M = TypeVar("_M", bound=models.Model)

_TRUE = {"1", "true", "yes", "y", "x", "ja", "oui"}
_FALSE = {"0", "false", "no", "n", ""}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = int(value) if value.is_integer() else value  # a spreadsheet number typed into a text column
    return str(value).strip()


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("Use yes or no.")


def _choice(field: models.Field, value: Any) -> str:
    text = _text(value)
    for key, name in field.choices or ():
        if text.lower() in (str(key).lower(), str(name).lower()):
            return key
    return text  # full_clean names the bad choice


def _whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("Enter a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value)
    if not text.lstrip("-").isdigit():
        raise ValueError(f"{text!r} is not a whole number.")
    return int(text)


def money_value(value: Any, currency: str) -> Decimal:
    """Strict: '1,2,3' or more decimals than the currency allows are refused; floats only from
    spreadsheets (their shortest text form), never from the API or a form."""
    if isinstance(value, Decimal):
        if value != quantize(value, currency):
            raise InvalidAmount(f"{value} has more decimal places than {currency} allows.")
        return value
    if isinstance(value, float):
        raise InvalidAmount("Send amounts as text, e.g. \"1234.50\", not as a floating-point number.")
    amount = parse_amount(_text(value) if not isinstance(value, int) else str(value), currency)
    return check_plausible(amount, currency)


def _related(model: type[_M], value: Any, *, key: str) -> _M | None:
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    text = _text(value)
    lookup = {"pk": int(text)} if text.isdigit() else {key: text}
    found = model._default_manager.filter(**lookup).first()
    if found is None:
        raise ValueError(f"{text!r} does not exist.")
    return found


def _parent(customer: Customer, parent: Customer | None) -> Customer | None:
    """Refuse a parent that would make a loop (the customer itself or one of its descendants)."""
    if parent is None:
        return None
    if customer.pk and parent.pk == customer.pk:
        raise ValueError("A customer cannot be its own parent.")
    seen: set[int] = set()
    node: Customer | None = parent
    while node is not None:
        if customer.pk and node.pk == customer.pk:
            raise ValueError("A customer cannot be its own parent or the parent of one of its parents.")
        if node.pk in seen or len(seen) >= MAX_PARENT_DEPTH:
            raise ValueError(f"The customer hierarchy above {parent.account_number} is too deep or loops.")
        seen.add(node.pk)
        node = node.parent
    return parent


def _sales_owner(user: User | None) -> User | None:
    """A sales owner is an active person with the Sales Rep role (never an auditor or an integration)."""
    from otc.roles import SALES_REP

    if user is None:
        return None
    if not user.is_active or user.is_integration or not user.groups.filter(name=SALES_REP).exists():
        raise ValueError(f"{user.username} is not an active sales rep.")
    return user


def finance_field_changes(customer: Customer, data: dict[str, Any]) -> list[str]:
    """The finance-controlled fields whose value in `data` differs from the customer's (a new
    customer's defaults). Values that do not convert are left to the normal validation."""
    given = [name for name in FINANCE_FIELDS if name in data]
    if not given:
        return []
    probe = Customer(**{f.attname: getattr(customer, f.attname) for f in Customer._meta.concrete_fields})
    if "default_currency" in data and not customer.pk:
        probe.default_currency = _text(data["default_currency"]).upper() or probe.default_currency
    errors = assign_customer_fields(probe, {name: data[name] for name in given if name in EDITABLE_FIELDS})
    return [name for name in given if name not in errors and (
        name not in EDITABLE_FIELDS or getattr(probe, name) != getattr(customer, name))]


def assign_customer_fields(customer: Customer, data: dict[str, Any]) -> Errors:
    """Set every given field on `customer`; return conversion errors (field -> messages).
    Values not given keep their current value."""
    errors: Errors = {}
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    for name in unknown:
        errors[name] = [f"{name!r} is not a customer field that can be changed."]
    currency: str | None = customer.default_currency
    if "default_currency" in data:
        try:
            currency = validate_currency(_text(data["default_currency"]))
            customer.default_currency = currency
        except InvalidAmount as exc:
            errors["default_currency"] = [exc.message]
            currency = None
    for name in EDITABLE_FIELDS:
        if name not in data or name == "default_currency":
            continue
        value = data[name]
        field = cast(models.Field, Customer._meta.get_field(name))  # EDITABLE_FIELDS are concrete fields
        try:
            if name == "parent":
                customer.parent = _parent(customer, _related(Customer, value, key="account_number"))
            elif name == "sales_owner":
                customer.sales_owner = _sales_owner(_related(User, value, key="username"))
            elif name == "credit_limit":
                if currency is not None:
                    customer.credit_limit = money_value(value, currency)
            elif name == "payment_terms_days":
                customer.payment_terms_days = _whole_number(value)
            elif isinstance(field, models.BooleanField):
                setattr(customer, name, _boolean(value))
            elif field.choices:
                setattr(customer, name, _choice(field, value))
            elif name == "external_crm_id":
                customer.external_crm_id = _text(value) or None
            elif name == "notes":
                customer.notes = "" if value is None else str(value)
            else:
                setattr(customer, name, _text(value))
        except InvalidAmount as exc:
            errors[name] = [exc.message]
        except ValueError as exc:
            errors[name] = [str(exc)]
    return errors


def customer_errors(customer: Customer, data: dict[str, Any]) -> Errors:
    """Assign `data` and validate the whole record with the model's rules."""
    errors = assign_customer_fields(customer, data)
    errors.update(model_errors(customer, exclude=sorted(errors), by_input_name=False))
    return errors


def assign_contact_fields(contact: Contact, data: dict[str, Any]) -> Errors:
    errors: Errors = {}
    for name in sorted(set(data) - set(CONTACT_FIELDS)):
        errors[name] = [f"{name!r} is not a contact field."]
    for name in CONTACT_FIELDS:
        if name not in data:
            continue
        try:
            if name == "is_billing_contact":
                contact.is_billing_contact = _boolean(data[name])
            else:
                setattr(contact, name, _text(data[name]))
        except ValueError as exc:
            errors[name] = [str(exc)]
    return errors


def contact_errors(contact: Contact, data: dict[str, Any]) -> Errors:
    errors = assign_contact_fields(contact, data)
    errors.update(model_errors(contact, exclude=sorted(set(errors) | {"customer"}), by_input_name=False))
    return errors
