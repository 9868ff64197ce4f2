"""A dispute: the customer contests (part of) an invoice; the disputed amount is not dunned."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from otc.money import MAX_DIGITS, STORAGE_PLACES


class DisputeReason(models.TextChoices):
    PRICE = "price", "Price"
    QUANTITY = "quantity", "Quantity"
    NOT_RECEIVED = "not_received", "Goods or service not received"
    PO_MISSING = "po_missing", "PO number missing or wrong"
    DUPLICATE = "duplicate", "Duplicate billing"
    TAX = "tax", "Tax"
    SERVICE_QUALITY = "service_quality", "Service quality"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED_CREDIT = "resolved_credit", "Resolved by credit note"
    REJECTED = "rejected", "Resolved without credit"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_DISPUTE_STATUSES = (DisputeStatus.OPEN, DisputeStatus.IN_PROGRESS)


class Dispute(models.Model):
    """Opened on an invoice (whole, or some of its lines through `DisputeLine`)."""

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="disputes")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="disputes")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="disputes")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES,
                                 help_text="Disputed amount, gross, in the invoice's currency")
    reason = models.CharField(max_length=20, choices=DisputeReason.choices)
    status = models.CharField(max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="owned_disputes")
    due_date = models.DateField(null=True, blank=True, help_text="When the owner should have resolved it")
    source = models.CharField(max_length=20, default="collector",
                              help_text="Who raised it: collector, billing, helpdesk, api")
    source_reference = models.CharField(max_length=60, blank=True, help_text="e.g. the help-desk ticket number")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="opened_disputes")
    opened_at = models.DateTimeField(auto_now_add=True)
    credit_note = models.ForeignKey("billing.CreditNote", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="disputes", help_text="The credit note that resolves it")
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="resolved_disputes")
    resolved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        permissions = [("manage_dispute", "Open, work and resolve disputes")]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive")]
        indexes = [models.Index(fields=["invoice", "status"]), models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return f"Dispute #{self.pk} on {self.invoice_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DISPUTE_STATUSES


class DisputeLine(models.Model):
    """The part of a dispute that contests one invoice line."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey("billing.InvoiceLine", on_delete=models.PROTECT, related_name="dispute_lines")
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="disputeline_amount_positive"),
            models.UniqueConstraint(fields=["dispute", "invoice_line"], name="disputeline_once_per_line"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on line {self.invoice_line_id}"
