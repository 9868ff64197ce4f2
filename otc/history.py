"""Audit history for a record's page: every change with who, when and what changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone


def history_rows(obj: Any, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first: {when, who, type, reason, changes: [(field, old, new)]}."""
    records = list(obj.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    rows = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous)
            for change in delta.changes:
                field = obj._meta.get_field(change.field)
                changes.append((field.verbose_name, display_value(field, change.old), display_value(field, change.new)))
        rows.append({
            "when": record.history_date,
            "who": record.history_user,
            "type": {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
            "reason": record.history_change_reason or "",
            "changes": changes,
        })
    return rows


def display_value(field: models.Field, value: Any) -> str:
    """A historical value as a person reads it: choice labels, related records by name, amounts
    without storage padding (50000.0000 -> 50,000.00), yes/no for booleans."""
    if value is None or value == "":
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.ForeignKey):
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else f"#{value} (deleted)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        exponent = value.normalize().as_tuple().exponent
        places = max(2, -exponent) if isinstance(exponent, int) else 2
        return f"{value:,.{places}f}"
    return str(value)
