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


def invoice_payments_context(request: Any, invoice: Any) -> dict[str, Any] | None:
    """The cash applied to an invoice (billing's invoice page), each application linked to its
    receipt when the user may see that receipt; reversed applications shown struck through. One
    query. Hidden on drafts."""
    from ..models import ReceiptApplication
    from ..selectors import receipts_visible_to

    if invoice.status == "draft":
        return None
    applications = list(ReceiptApplication.objects.filter(invoice_id=invoice.pk)
                        .select_related("receipt", "applied_by").order_by("applied_at", "id"))
    visible = set(receipts_visible_to(request.user).filter(pk__in=[a.receipt_id for a in applications])
                  .values_list("pk", flat=True)) if applications else set()
    return {"invoice": invoice, "applications": applications, "visible_receipts": visible}


def invoice_statements_context(request: Any, invoice: Any) -> dict[str, Any] | None:
    """The customer statements that covered the invoice (its communication log on billing's
    invoice page): when, by whom, to whom, the period and closing balance. One query; hidden on
    drafts. Whoever may see the invoice page sees what was sent about it."""
    from ..models import StatementDelivery

    if invoice.status == "draft":
        return None
    return {"invoice": invoice, "statements": list(
        StatementDelivery.objects.filter(invoices=invoice).select_related("sent_by").order_by("sent_at", "id"))}


__all__ = ["customer_cash_context", "invoice_payments_context", "invoice_statements_context",
           "unapplied_by_age_context"]
