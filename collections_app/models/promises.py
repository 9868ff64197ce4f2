"""A promise to pay: the customer said it will pay an amount by a date, for some invoices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from otc.money import MAX_DIGITS, STORAGE_PLACES


class PromiseStatus(models.TextChoices):
    OPEN = "open", "Open"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"
    CANCELLED = "cancelled", "Cancelled"


class PromiseToPay(models.Model):
    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="promises")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="promises")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES)
    promised_date = models.DateField()
    grace_days = models.PositiveSmallIntegerField(default=3, help_text="Days after the date before it is broken")
    status = models.CharField(max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    channel = models.CharField(max_length=20, default="call", help_text="call, email, meeting, letter, api")
    note = models.TextField(blank=True)
    plan_reference = models.CharField(max_length=40, blank=True,
                                      help_text="Instalments of one payment plan share a reference")
    instalment = models.PositiveSmallIntegerField(null=True, blank=True)
    paid_amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES, default=0,
                                      help_text="Cash applied to the promised invoices since it was taken")
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="promises_taken")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["promised_date", "id"]
        permissions = [("manage_promise", "Record and cancel promises to pay")]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive")]
        indexes = [models.Index(fields=["customer", "status"]), models.Index(fields=["status", "promised_date"])]

    def __str__(self) -> str:
        return f"Promise #{self.pk}: {self.amount} {self.currency} by {self.promised_date}"


class PromiseItem(models.Model):
    """The promised amount of one invoice."""

    promise = models.ForeignKey(PromiseToPay, on_delete=models.CASCADE, related_name="items")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="promise_items")
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promiseitem_amount_positive"),
            models.UniqueConstraint(fields=["promise", "invoice"], name="promiseitem_once_per_invoice"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of invoice {self.invoice_id}"
