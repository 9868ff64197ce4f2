"""Write-off panels: the dashboard's write-off work (awaiting my approval, approved to post, this
month's small-balance batch) and the invoice page's write-off (status, amount, recoveries, or a
link to request one)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Sum

from billing.models import Invoice
from collections_app.models import WriteOff, WriteOffBatch, WriteOffLine, WriteOffStatus


def dashboard_context(request: Any) -> dict[str, Any]:
    user = request.user
    submitted = WriteOff.objects.filter(status=WriteOffStatus.SUBMITTED, batch__isnull=True)
    awaiting = (submitted.exclude(requested_by=user).exclude(approvals__approver=user)
                if user.has_perm("collections_app.approve_writeoff") else submitted.none())
    rows = {
        "awaiting": awaiting.aggregate(n=Count("pk"))["n"],
        "approved": WriteOff.objects.filter(status=WriteOffStatus.APPROVED, batch__isnull=True).count(),
        "mine": submitted.filter(requested_by=user).count(),
        "batches": WriteOffBatch.objects.filter(status__in=["draft", "submitted", "approved"]).count(),
        "by_currency": list(WriteOff.objects.filter(status=WriteOffStatus.POSTED).values("currency")
                            .annotate(total=Sum("amount"), n=Count("pk")).order_by("currency")),
    }
    return rows


def invoice_context(request: Any, invoice: Invoice) -> dict[str, Any] | None:
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
        return None
    lines = list(WriteOffLine.objects.filter(invoice=invoice).select_related("write_off").order_by("-write_off_id"))
    can_request = (invoice.status in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
                   and request.user.has_perm("collections_app.request_writeoff")
                   and not any(line.write_off.status in ("draft", "submitted", "approved") for line in lines))
    if not lines and not can_request:
        return None
    return {"invoice": invoice, "lines": lines, "can_request": can_request}
