"""Tax codes: the rate and category each invoice line is taxed at."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from .documents import RATE


class TaxCode(models.Model):
    """A tax rate for a jurisdiction and a product tax category, valid over a date range."""

    class Kind(models.TextChoices):
        STANDARD = "standard", "Standard"
        REDUCED = "reduced", "Reduced"
        ZERO = "zero", "Zero-rated"
        EXEMPT = "exempt", "Exempt"
        REVERSE_CHARGE = "reverse_charge", "Reverse charge"
        OUT_OF_SCOPE = "out_of_scope", "Outside the scope of tax"

    code = models.CharField(max_length=30, help_text="e.g. DE-VAT-19")
    name = models.CharField(max_length=120)
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=20, blank=True, help_text="State or province, where tax differs by region")
    category = models.CharField(max_length=20, help_text="Product tax category it applies to (contracts.Product)")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STANDARD)
    rate = models.DecimalField(**RATE, validators=[MinValueValidator(0)], help_text="Percent, e.g. 19.0000")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    account_code = models.CharField(max_length=20, default="2200", help_text="Tax payable account code")
    legal_note = models.TextField(blank=True, help_text="Printed on the invoice, e.g. the reverse-charge notice")
    ubl_category = models.CharField(
        max_length=2, default="S", help_text="UNCL5305 code for e-invoices: S, Z, E, AE (reverse charge), O")
    history = HistoricalRecords()

    class Meta:
        ordering = ["country", "region", "category", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="taxcode_code_from_unique"),
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                                   name="taxcode_valid_range"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.rate.normalize()}%"
