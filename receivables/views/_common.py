"""What the cash application views share: the permissions, the visible receipt, and stored
suggestions turned into rows a page can show (customer, invoices with their balance today,
whether the suggestion still fits)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest

from billing.models import Invoice
from customers.models import Customer

from ..forms import allocations_key
from ..models import Receipt
from ..selectors import receipt_for_page

#: The workbench, import history and the dashboard panel belong to the roles holding the
#: receivables read set (cash application, finance manager, controller, auditor). Billing,
#: collections and help-desk staff hold receivables.view_receipt only (a receipt's page, the
#: customer panel) and sales reps hold neither.
WORKBENCH = "receivables.view_bankstatement"
VIEW_RECEIPT = "receivables.view_receipt"
APPLY = "receivables.apply_receipt"
REFUND = "receivables.refund_receipt"
REVERSE = "receivables.reverse_receipt"
IMPORT = "receivables.import_statement"
OPEN = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)


def visible_receipt(request: HttpRequest, pk: int) -> Receipt:
    """The receipt if the user may see it, else 404 (never a 403 that confirms it exists)."""
    receipt = receipt_for_page(user=request.user, pk=pk)
    if receipt is None:
        raise Http404("No such receipt.")
    return receipt


def suggestion_rows(suggestions: list[dict[str, Any]], *, left: Decimal, customers: dict[int, Customer],
                    invoices: dict[int, Invoice]) -> list[dict[str, Any]]:
    """Each stored suggestion with its position, customer, invoices (and what each still owes)
    and `fits`: every invoice still open with enough left and the total within the receipt."""
    rows = []
    for index, suggestion in enumerate(suggestions):
        allocations, total, fits = [], Decimal(0), True
        for allocation in suggestion.get("allocations") or []:
            amount = Decimal(str(allocation["amount"]))
            invoice = invoices.get(allocation["invoice_id"])
            due = invoice.balance_due if invoice is not None else None
            ok = invoice is not None and invoice.status in OPEN and due is not None and due >= amount
            fits &= ok
            total += amount
            allocations.append({**allocation, "amount": amount, "invoice": invoice, "due": due, "ok": ok})
        fits = fits and bool(allocations) and total <= left
        rows.append({
            "index": index, "score": suggestion.get("score") or 0,
            "percent": round(float(suggestion.get("score") or 0) * 100),
            "customer": customers.get(suggestion.get("customer_id")), "allocations": allocations, "total": total,
            "on_account": Decimal(str(suggestion.get("on_account") or 0)),
            "short": Decimal(str(suggestion.get("short") or 0)),
            "rules": suggestion.get("rules") or [], "reasons": suggestion.get("reasons") or [],
            "fits": fits, "key": allocations_key(suggestion.get("allocations") or []),
            "other_customer": bool(suggestion.get("other_customer")),
        })
    return rows


def best_row(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The best suggestion worth showing in a list: the first one naming invoices, else the first."""
    return next((row for row in rows if row["allocations"]), rows[0] if rows else None)


def suggestion_invoice_ids(receipts: list[Receipt]) -> set[int]:
    return {a["invoice_id"] for r in receipts for s in (r.suggestions or []) for a in (s.get("allocations") or [])}
