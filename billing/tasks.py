"""Billing: thin, idempotent Celery tasks calling services.

Invoice documents (PDF and delivery) come first in this module; billing-run tasks follow below."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="billing.invoice_store_pdf", acks_late=True, reject_on_worker_lost=True)
def invoice_store_pdf_task(*, invoice_id: int) -> str:
    """Render and store an issued invoice's PDF once; returns its SHA-256."""
    from billing.pdf import invoice_store_pdf

    return invoice_store_pdf(invoice_id=invoice_id).pdf_sha256


@shared_task(name="billing.invoice_deliver", acks_late=True, reject_on_worker_lost=True)
def invoice_deliver_task(*, invoice_id: int) -> str:
    """Deliver an issued invoice (e-mail or portal upload task) once; returns the outcome."""
    from billing.services.delivery import invoice_deliver

    delivery = invoice_deliver(invoice_id=invoice_id)
    return "already delivered" if delivery is None else f"{delivery.channel} {delivery.status}"


@shared_task(name="billing.invoice_publish", acks_late=True, reject_on_worker_lost=True)
def invoice_publish_task(*, invoice_id: int) -> str:
    """After issue: store the PDF, then deliver it. Each step is idempotent, so a retry after a
    crash repeats nothing that was done."""
    invoice_store_pdf_task(invoice_id=invoice_id)
    return invoice_deliver_task(invoice_id=invoice_id)
