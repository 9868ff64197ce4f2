"""Credit holds: a policy per legal entity (overdue days or amount) applied by a daily task; a
hold records why, and is released by a Finance Manager within the credit-release approval limit,
or automatically once nothing is overdue. Contract review and the billing run read active holds
through otc.registry.credit_holds (collections registers the reader)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from otc.money import MAX_DIGITS, STORAGE_PLACES

MONEY = {"max_digits": MAX_DIGITS, "decimal_places": STORAGE_PLACES}


class CreditHoldPolicy(models.Model):
    legal_entity = models.OneToOneField("ledger.LegalEntity", on_delete=models.PROTECT,
                                        related_name="credit_hold_policy")
    is_active = models.BooleanField(default=True)
    overdue_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Hold when an invoice is overdue by more than this many days")
    overdue_amount = models.DecimalField(**MONEY, null=True, blank=True,
                                         help_text="Hold when the overdue total (entity currency) exceeds this")
    auto_release = models.BooleanField(default=True, help_text="Release automatically once nothing is overdue")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "credit hold policies"
        permissions = [("release_credit_hold", "Release customers from credit hold (within approval limits)")]
        constraints = [
            models.CheckConstraint(condition=Q(overdue_days__isnull=False) | Q(overdue_amount__isnull=False),
                                   name="credithold_policy_has_a_limit",
                                   violation_error_message="Set overdue days, an overdue amount, or both."),
            models.CheckConstraint(condition=Q(overdue_amount__isnull=True) | Q(overdue_amount__gte=0),
                                   name="credithold_policy_amount_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"Credit hold policy of {self.legal_entity_id}"


class CreditHold(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "On credit hold"
        RELEASED = "released", "Released"

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="credit_holds")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    reason = models.CharField(max_length=400)
    currency = models.CharField(max_length=3, help_text="The entity's functional currency")
    overdue_amount = models.DecimalField(**MONEY, help_text="Overdue when placed")
    oldest_days = models.PositiveIntegerField(default=0)
    placed_at = models.DateTimeField(auto_now_add=True)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", help_text="Empty: the daily task")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", help_text="Empty with a release date: released automatically")
    release_reason = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "customer"], condition=Q(status="active"),
                                    name="credithold_one_active_per_customer_and_entity"),
            models.CheckConstraint(condition=Q(status="active") | (Q(released_at__isnull=False) & ~Q(release_reason="")),
                                   name="credithold_release_says_why"),
        ]
        indexes = [models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return f"Credit hold on {self.customer_id}: {self.reason}"
