"""Template filters of the reserve pages."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def pct(value, places: int = 4) -> str:
    """A fraction as a percentage: 0.00300000 -> "0.3000 %"; empty for None."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(value) * 100:.{int(places)}f} %"
    except (ArithmeticError, ValueError, TypeError):
        return str(value)


@register.filter
def item(sequence, index):
    try:
        return sequence[int(index)]
    except (IndexError, KeyError, TypeError, ValueError):
        return ""
