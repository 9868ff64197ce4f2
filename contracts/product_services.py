"""Writes to the product catalogue: create and change a product.

Each entry point owns its transaction, checks the permission, validates with the model's rules
(`full_clean`: unique SKU, choices, non-negative price) and records who changed what and why
(simple_history). Contract lines point at products with PROTECT, so products are deactivated,
never deleted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from ledger.models import Account
from otc.errors import InvalidAmount, NotFound, PermissionDenied, ValidationFailed
from otc.history import history_stamp
from otc.models import User
from otc.money import minor_units, quantize, validate_currency

from .models import Product

PRODUCT_FIELDS: tuple[str, ...] = (
    "sku", "name", "description", "unit", "default_price", "currency", "revenue_account_code", "tax_category",
    "is_active",
)


def _apply(product: Product, data: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field in PRODUCT_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field in ("sku", "name", "revenue_account_code") and isinstance(value, str):
            value = value.strip()
        if field == "sku" and isinstance(value, str):
            value = value.upper()
        if field == "currency":
            try:
                value = validate_currency(str(value or "").strip())
            except InvalidAmount as exc:
                errors[field] = [exc.message]
                continue
        if field == "default_price" and (isinstance(value, float) or not isinstance(value, Decimal | int)):
            errors[field] = ["Enter an amount such as 1,200.00 (never a float)."]
            continue
        setattr(product, field, value)
    if "default_price" not in errors and "currency" not in errors and Decimal(product.default_price) != quantize(
            product.default_price, product.currency):
        errors["default_price"] = [f"{product.currency} allows {minor_units(product.currency)} decimal places."]
    if product.revenue_account_code and "revenue_account_code" not in errors and not Account.objects.filter(
            code=product.revenue_account_code).exists():
        errors["revenue_account_code"] = [
            f"No legal entity has account {product.revenue_account_code} in its chart: use a revenue account "
            f"such as 4000."]
    try:
        product.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(str(m) for m in messages)
    return errors


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        field, messages = next(iter(errors.items()))
        name = "" if field == NON_FIELD_ERRORS else f"{Product._meta.get_field(field).verbose_name}: "
        raise ValidationFailed(f"The product was not saved: {name}{messages[0]}", fields=errors)


def _save(product: Product, *, by: User, reason: str) -> Product:
    history_stamp(product, by=by, reason=reason.strip()[:100])
    product.save()
    return product


@transaction.atomic(durable=True)
def product_create(*, data: dict[str, Any], by: User, reason: str = "created") -> Product:
    """Add a product to the catalogue. `data`: sku, name, description, unit, default_price
    (Decimal, in `currency`), currency, revenue_account_code, tax_category, is_active."""
    if not by.has_perm("contracts.add_product"):
        raise PermissionDenied("Your role may not add products.")
    product = Product()
    _raise(_apply(product, data))
    return _save(product, by=by, reason=reason)


@transaction.atomic(durable=True)
def product_update(*, product_id: int, data: dict[str, Any], by: User, reason: str = "") -> Product:
    """Change the given fields of a product (others keep their values). Contract lines keep their
    own prices: changing the default price changes only new lines."""
    if not by.has_perm("contracts.change_product"):
        raise PermissionDenied("Your role may not change products.")
    product = Product.objects.select_for_update(of=("self",)).filter(pk=product_id).first()
    if product is None:
        raise NotFound("No such product.")
    _raise(_apply(product, data))
    return _save(product, by=by, reason=reason)
