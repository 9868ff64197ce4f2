"""Credit notes and their lines."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from simple_history.models import HistoricalRecords

from otc.money import STORAGE_PLACES

from .documents import MONEY, QTY, RATE, DocumentGuard
from .invoices import Invoice, InvoiceLine
from .tax import TaxCode


class CreditNote(DocumentGuard):
    ONCE = frozenset({"pdf", "pdf_sha256"})

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ISSUED = "issued", "Issued"

    TRANSITIONS = {"requested": ("approved", "rejected"), "approved": ("issued",), "rejected": (), "issued": ()}

    class Reason(models.TextChoices):
        BILLING_ERROR = "billing_error", "Billing error"
        PRICING_DISPUTE = "pricing_dispute", "Pricing dispute"
        SERVICE_CREDIT = "service_credit", "Service credit"
        GOODWILL = "goodwill", "Goodwill"
        CANCELLATION = "cancellation", "Cancellation"
        DUPLICATE = "duplicate", "Duplicate"

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="credit_notes")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    explanation = models.TextField()
    currency = models.CharField(max_length=3)
    net_total = models.DecimalField(**MONEY, default=0)
    tax_total = models.DecimalField(**MONEY, default=0)
    gross_total = models.DecimalField(**MONEY, default=0)
    issue_date = models.DateField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)
    journal_entry = models.OneToOneField("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    pdf = models.FileField(upload_to="credit_notes/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("request_creditnote", "Can request credit notes"),
            ("approve_creditnote", "Can approve credit notes within a limit"),
            ("issue_creditnote", "Can issue approved credit notes"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "number"], condition=~Q(number=""),
                                    name="creditnote_number_unique_per_entity"),
            models.CheckConstraint(condition=Q(gross_total=Round(F("net_total") + F("tax_total"), STORAGE_PLACES)),
                                   name="creditnote_gross_is_net_plus_tax"),
            models.CheckConstraint(condition=Q(gross_total__gte=0), name="creditnote_amount_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.number or f"Credit note request #{self.pk}"

    @classmethod
    def frozen_q(cls, prefix: str | None = None) -> Q:
        return Q(**{f"{prefix or ''}status": "issued"})


class CreditNoteLine(DocumentGuard):
    PARENT = "credit_note"

    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    invoice_line = models.ForeignKey(InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=255)
    quantity = models.DecimalField(**QTY, default=1)
    net_amount = models.DecimalField(**MONEY)
    tax_code = models.ForeignKey(TaxCode, on_delete=models.PROTECT, related_name="+")
    tax_rate = models.DecimalField(**RATE, help_text="The original invoice line's rate")
    tax_amount = models.DecimalField(**MONEY)
    revenue_account_code = models.CharField(max_length=20, default="4000")

    class Meta:
        ordering = ["credit_note", "position"]
        constraints = [models.UniqueConstraint(fields=["credit_note", "position"], name="creditnoteline_position_unique")]

    def __str__(self) -> str:
        return self.description

    @classmethod
    def frozen_q(cls, prefix: str | None = None) -> Q:
        return Q(**{f"{'credit_note__' if prefix is None else prefix}status": "issued"})
