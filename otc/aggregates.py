"""Database aggregates for money, shared by every app's selectors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Sum, Value
from django.db.models.functions import Coalesce, Round

from .money import MAX_DIGITS, STORAGE_PLACES, ZERO

MONEY_FIELD = DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES)
_PLACES = Decimal(1).scaleb(-STORAGE_PLACES)


def money_sum(expression: Any, **kwargs: Any) -> Coalesce:
    """SUM rounded to the stored places in SQL, zero when there are no rows. Exact on PostgreSQL
    (NUMERIC); on SQLite it removes the floating-point dust of REAL arithmetic (every stored
    amount has at most four places). Use it for every money aggregate."""
    return Coalesce(Round(Sum(expression, **kwargs), STORAGE_PLACES), Value(ZERO), output_field=MONEY_FIELD)


def money_value(value: Decimal | None) -> Decimal:
    """Normalise an aggregate read back in Python: four places, and never a negative zero."""
    return (value or ZERO).quantize(_PLACES) + 0
