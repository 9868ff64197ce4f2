"""Audit history for a record's page: every change with who, when and what changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

_UNSET: Any = object()


def history_stamp(instance: models.Model, *, by: Any = _UNSET, reason: Any = _UNSET, at: Any = _UNSET) -> None:
    """Who made the next saved change of `instance`, why and when, for its history row: the attributes
    django-simple-history reads at save (`_history_user`, `_change_reason`, `_history_date`). Only
    what is given is set."""
    for attribute, value in (("_history_user", by), ("_change_reason", reason), ("_history_date", at)):
        if value is not _UNSET:
            setattr(instance, attribute, value)


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
                changes.extend(field_changes(field, change.old, change.new))
        rows.append({
            "when": record.history_date,
            "who": record.history_user,
            "type": {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
            "reason": record.history_change_reason or "",
            "changes": changes,
        })
    return rows


def field_changes(field: models.Field, old: Any, new: Any) -> list[tuple[str, str, str]]:
    """One (field, old, new) row per change, in words. A structured value (a JSON snapshot such
    as an invoice's seller or bill-to) becomes one row per key that changed, named in words
    ("seller: legal name"), rather than two Python dicts side by side."""
    name = str(field.verbose_name)
    if isinstance(old, dict) or isinstance(new, dict):
        before, after = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
        keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
        if not before and len(keys) > 4:  # a snapshot taken: say so rather than list every field
            filled = [k for k in keys if after.get(k) not in (None, "", [], {})]
            return [(name, "", f"recorded ({len(filled)} fields: {', '.join(_words(k) for k in filled[:4])}…)")]
        return [(f"{name}: {_words(k)}", _plain(before.get(k)), _plain(after.get(k))) for k in keys]
    if isinstance(old, list) or isinstance(new, list):
        return [(name, _plain(old), _plain(new))]
    return [(name, display_value(field, old), display_value(field, new))]


def _words(key: Any) -> str:
    return str(key).replace("_", " ")


def _plain(value: Any) -> str:
    """A JSON value as a person reads it: lists joined, booleans as yes/no, nested dicts as
    'key: value' pairs."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_words(k)}: {_plain(v)}" for k, v in value.items() if v not in (None, ""))
    return str(value)


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
