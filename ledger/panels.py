"""Panels the ledger registers on the customer page and the dashboard (see apps.py)."""

from __future__ import annotations

from typing import Any

from otc import dates

from .selectors import ar_reconciliation, customer_balance, customer_open_items, periods_overview

ITEMS_SHOWN = 15


def customer_balance_context(request: Any, customer: Any) -> dict[str, Any]:
    """Balance and overdue amount per currency, and the oldest open items with days overdue."""
    today = dates.today()
    items = list(customer_open_items(customer_id=customer.pk)[: ITEMS_SHOWN + 1])
    for item in items:
        item.days_overdue = max((today - item.due_date).days, 0)
    return {
        "customer": customer, "balances": customer_balance(customer_id=customer.pk),
        "items": items[:ITEMS_SHOWN], "more": len(items) > ITEMS_SHOWN,
    }


def ar_control_context(request: Any) -> dict[str, Any]:
    rows = ar_reconciliation()
    return {"rows": rows, "differences": [row for row in rows if row["difference"] != 0]}


def periods_context(request: Any) -> dict[str, Any]:
    entities = list(periods_overview())
    for entity in entities:
        entity.first_open = _label(entity.first_open_key)
        entity.last_closed = _label(entity.last_closed_key)
    return {"entities": entities}


def _label(key: int | None) -> str:
    return f"{key // 100}-{key % 100:02d}" if key else "—"
