"""Delivery logs and procurement-portal submissions of issued documents."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .credit_notes import CreditNote
from .documents import DocumentGuard
from .invoices import Invoice


class Delivery(DocumentGuard):
    """One attempt to deliver an issued document to the customer: the delivery log, written once
    (every row is frozen; a retry writes its own row)."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        PORTAL = "portal", "Procurement portal"
        POST = "post", "Post"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    credit_note = models.ForeignKey(CreditNote, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipients = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    detail = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(condition=Q(invoice__isnull=False) | Q(credit_note__isnull=False),
                                   name="delivery_has_document"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.status}"

    @classmethod
    def frozen_q(cls, prefix: str | None = None) -> Q:
        return Q(pk__isnull=False) if not prefix else Q(**{f"{prefix}pk__isnull": False})


class PortalSubmission(models.Model):
    """The upload of an issued invoice (or credit note) to the customer's procurement portal."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending upload"
        UPLOADED = "uploaded", "Uploaded"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        RESUBMITTED = "resubmitted", "Resubmitted"

    TRANSITIONS = {
        "pending": ("uploaded",),
        "uploaded": ("accepted", "rejected"),
        "rejected": ("resubmitted",),
        "resubmitted": ("accepted", "rejected"),
        "accepted": (),
    }

    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="portal_submissions")
    credit_note = models.ForeignKey(CreditNote, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="portal_submissions")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    portal = models.CharField(max_length=10)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    due_date = models.DateField()
    portal_reference = models.CharField(max_length=120, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, credit_note__isnull=True) | Q(invoice__isnull=True, credit_note__isnull=False),
                name="portalsubmission_one_document"),
            models.UniqueConstraint(fields=["invoice"], condition=Q(invoice__isnull=False), name="portalsubmission_once_per_invoice"),
            models.UniqueConstraint(fields=["credit_note"], condition=Q(credit_note__isnull=False),
                                    name="portalsubmission_once_per_credit_note"),
        ]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.portal} {self.status}"

    def get_portal_display(self) -> str:
        """The portal's name (SAP Ariba, Coupa...) rather than its code."""
        from customers.models import Customer

        return str(dict(Customer.Portal.choices).get(self.portal, self.portal))
