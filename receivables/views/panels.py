"""Panels receivables registers (see apps.py): unapplied cash by age on the dashboard, and cash on
the customer page. Each is a fixed number of SQL aggregate queries."""

from __future__ import annotations

from typing import Any

from ledger.selectors import customer_balance

from ..selectors import AGE_BUCKETS, customer_cash, unapplied_cash_by_age


def unapplied_by_age_context(request: Any) -> dict[str, Any]:
    return {"rows": unapplied_cash_by_age(user=request.user), "buckets": AGE_BUCKETS}


def customer_cash_context(request: Any, customer: Any) -> dict[str, Any]:
    """Balance per currency (open items, unapplied cash netted in), the cash waiting to be
    applied and the latest receipts with what each paid."""
    from receivables.statements import statement_currencies

    return {"customer": customer, "balances": customer_balance(customer_id=customer.pk),
            "statements": statement_currencies(customer_id=customer.pk), **customer_cash(customer_id=customer.pk)}


__all__ = ["customer_cash_context", "unapplied_by_age_context"]
