"""Portfolios: which collector works which customer (or corporate group).

Assignment rules (by legal entity, country and size) are applied in bulk; a manual assignment
overrides the rules until it is released; every change is a history row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CustomerSize(models.TextChoices):
    """A customer's size from its credit limit (bands in `conf_worklist`)."""

    SMALL = "small", "Small"
    MEDIUM = "medium", "Medium"
    LARGE = "large", "Large"


class AssignmentRule(models.Model):
    """Customers matching every set criterion go to the collector; the lowest priority number wins."""

    priority = models.PositiveIntegerField(default=100, help_text="Lower numbers are tried first")
    legal_entity = models.ForeignKey("ledger.LegalEntity", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", help_text="The customer's main entity (its latest open "
                                     "item's); empty: any")
    country = models.CharField(max_length=2, blank=True, help_text="ISO country code; empty: any")
    size = models.CharField(max_length=10, choices=CustomerSize.choices, blank=True, help_text="Empty: any")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        parts = [str(self.legal_entity) if self.legal_entity_id else "", self.country, self.get_size_display()]
        return f"#{self.priority} {' / '.join(p for p in parts if p) or 'everyone'} -> {self.collector}"


class CollectorAssignment(models.Model):
    """The customer's current collector. `is_manual` keeps the rules from changing it."""

    class Source(models.TextChoices):
        RULE = "rule", "Assignment rule"
        GROUP = "group", "Corporate group"
        MANUAL = "manual", "Manual"

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="collections_portfolio")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="collection_customers")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.RULE)
    rule = models.ForeignKey(AssignmentRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_manual = models.BooleanField(default=False, help_text="A manual override the rules leave alone")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    assigned_at = models.DateTimeField()

    class Meta:
        permissions = [
            ("view_worklist", "Work the collections worklist and customers' collections pages"),
            ("manage_portfolio", "Assign collectors, reassign customers and edit assignment rules"),
            ("view_collections_manager", "See the collections manager's view (portfolios, promised vs collected)"),
        ]
        indexes = [models.Index(fields=["collector"])]

    def __str__(self) -> str:
        return f"{self.customer_id} -> {self.collector_id}"


class CollectorAssignmentChange(models.Model):
    """History: every change of a customer's collector (who, when, from, to, why)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    from_collector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    to_collector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    source = models.CharField(max_length=10, choices=CollectorAssignment.Source.choices)
    rule = models.ForeignKey(AssignmentRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=255, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "at"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_collector_id} -> {self.to_collector_id}"
