"""Agency and legal placements: a customer's invoices handed to a collection agency (or the legal
department), followed through its statuses, with the recoveries the agency remits net of its fee.
An invoice is in at most one active placement (a unique constraint decides); placed invoices and
customers under placement leave dunning."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from otc.money import MAX_DIGITS, STORAGE_PLACES

MONEY = {"max_digits": MAX_DIGITS, "decimal_places": STORAGE_PLACES}


class Agency(models.Model):
    class Kind(models.TextChoices):
        AGENCY = "agency", "Collection agency"
        LEGAL = "legal", "Legal (lawyers / legal department)"

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="agencies")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.AGENCY)
    contact_name = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    fee_percent = models.DecimalField(max_digits=6, decimal_places=3, help_text="Of each amount recovered")
    fee_account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+",
                                    help_text="Expense account the agency's fees post to")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"
        permissions = [("place_with_agency", "Place invoices with an agency or legal, record recoveries")]
        constraints = [
            models.CheckConstraint(condition=Q(fee_percent__gte=0, fee_percent__lte=100), name="agency_fee_percent_range"),
            models.UniqueConstraint(fields=["legal_entity", "name"], name="agency_name_unique_per_entity"),
        ]

    def __str__(self) -> str:
        return self.name


class Placement(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        NEGOTIATING = "negotiating", "Negotiating"
        PAYMENT_PLAN = "payment_plan", "Payment plan"
        LAWSUIT_FILED = "lawsuit_filed", "Lawsuit filed"
        JUDGMENT = "judgment", "Judgment"
        SETTLED = "settled", "Settled"
        CLOSED = "closed", "Closed"
        RECALLED = "recalled", "Recalled"

    TRANSITIONS = {
        "placed": {"negotiating", "payment_plan", "lawsuit_filed", "settled", "closed", "recalled"},
        "negotiating": {"payment_plan", "lawsuit_filed", "settled", "closed", "recalled"},
        "payment_plan": {"negotiating", "lawsuit_filed", "settled", "closed", "recalled"},
        "lawsuit_filed": {"judgment", "settled", "closed", "recalled"},
        "judgment": {"payment_plan", "settled", "closed"},
        "settled": {"closed"},
        "closed": set(),
        "recalled": set(),
    }
    ENDED = ("closed", "recalled")

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="placements")
    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="placements")
    currency = models.CharField(max_length=3)
    placed_on = models.DateField()
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.PLACED)
    note = models.TextField(blank=True)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_on", "-id"]
        indexes = [models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return f"Placement #{self.pk} with {self.agency_id}"

    @property
    def is_active(self) -> bool:
        return self.status not in self.ENDED


class PlacementItem(models.Model):
    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="items")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="+")
    open_item = models.ForeignKey("ledger.OpenItem", on_delete=models.PROTECT, related_name="+")
    amount_placed = models.DecimalField(**MONEY)
    recovered = models.DecimalField(**MONEY, default=0)
    active = models.BooleanField(default=True, help_text="False once the placement is closed or recalled")

    class Meta:
        ordering = ["id"]
        constraints = [
            # Never place an invoice twice: at most one active placement per invoice.
            models.UniqueConstraint(fields=["invoice"], condition=Q(active=True), name="placementitem_invoice_once"),
            models.CheckConstraint(condition=Q(amount_placed__gt=0, recovered__gte=0), name="placementitem_amounts"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.amount_placed}"


class Recovery(models.Model):
    """Cash the agency collected on a placed invoice: the gross settles the invoice, the agency
    keeps its fee (expense) and remits the net (cash), in one balanced journal entry."""

    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="recoveries")
    item = models.ForeignKey(PlacementItem, on_delete=models.PROTECT, related_name="recoveries")
    received_on = models.DateField()
    currency = models.CharField(max_length=3)
    gross = models.DecimalField(**MONEY)
    fee = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    journal_entry = models.OneToOneField("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name_plural = "recoveries"
        constraints = [
            models.CheckConstraint(condition=Q(gross__gt=0, fee__gte=0, net__gte=0), name="recovery_amounts"),
        ]

    def __str__(self) -> str:
        return f"Recovery {self.gross} {self.currency} on {self.received_on}"
