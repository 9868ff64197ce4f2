from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from ledger.models import FxRate
from otc.errors import DomainError, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import validate_currency


def fx_rate_for(*, from_currency: str, to_currency: str, on: dt.date) -> Decimal:
    """The rate in force on `on`: the latest published on or before that date (direct, or the
    inverse of the opposite pair). Raises when there is none."""
    if from_currency == to_currency:
        return Decimal(1)
    direct = FxRate.objects.filter(from_currency=from_currency, to_currency=to_currency, date__lte=on).first()
    inverse = FxRate.objects.filter(from_currency=to_currency, to_currency=from_currency, date__lte=on).first()
    if direct and (inverse is None or direct.date >= inverse.date):
        return direct.rate
    if inverse:
        return (Decimal(1) / inverse.rate).quantize(Decimal("1e-10"))
    raise DomainError(f"No {from_currency}->{to_currency} FX rate on or before {on:%Y-%m-%d}; enter one first.")


@transaction.atomic(durable=True)
def fx_rate_set(*, date: dt.date, from_currency: str, to_currency: str, rate: Decimal, by: User, source: str = "manual") -> FxRate:
    if not by.has_perm("ledger.add_fxrate"):
        raise PermissionDenied("Your role may not enter FX rates.")
    from_currency, to_currency = validate_currency(from_currency), validate_currency(to_currency)
    if from_currency == to_currency:
        raise ValidationFailed("An FX rate needs two different currencies.")
    if rate <= 0:
        raise ValidationFailed("An FX rate must be positive.", fields={"rate": ["must be positive"]})
    obj, _ = FxRate.objects.update_or_create(
        date=date, from_currency=from_currency, to_currency=to_currency, defaults={"rate": rate, "source": source}
    )
    return obj
