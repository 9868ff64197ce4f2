"""Audit history for a record's page: every change with who, when and what changed."""

from __future__ import annotations

from typing import Any


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
                changes.append((field.verbose_name, change.old, change.new))
        rows.append({
            "when": record.history_date,
            "who": record.history_user,
            "type": {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
            "reason": record.history_change_reason or "",
            "changes": changes,
        })
    return rows
