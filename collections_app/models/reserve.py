"""The bad-debt reserve (issue 11): provision policies per legal entity versioned by effective
date, their rates per aging bucket and segment, specific reserves for named customers or
invoices, and the reserve runs with their calculation lines.

A policy is immutable once written (a change is a new version with a later effective date), so a
run that names its policy version and its aging snapshot can be recomputed to the cent. A posted
run and its lines are immutable: the model guards below refuse it in Python and, on PostgreSQL,
triggers refuse it in the database (migration 0002_i11a_reserve); the only change a posted run
takes is becoming `reversed` when its entry is reversed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from otc.errors import DomainError
from otc.money import MAX_DIGITS, STORAGE_PLACES

_MONEY = {"max_digits": MAX_DIGITS, "decimal_places": STORAGE_PLACES}
_RATE = {"max_digits": 12, "decimal_places": 8}  # a fraction: 0.00300000 is 0.3 %


class ReserveMethod(models.TextChoices):
    MATRIX = "matrix", "Provision matrix (rates entered)"
    ROLL_RATE = "roll_rate", "Roll-rate (migration) from the aging snapshots"
    LOSS_RATE = "loss_rate", "Historical loss rate from the snapshots and write-offs"


class ReserveSegment(models.TextChoices):
    NONE = "", "No segments"
    RISK_RATING = "risk_rating", "Customer risk rating"
    COUNTRY = "country", "Customer country"
    CUSTOMER_TYPE = "customer_type", "Customer type (corporate group member or standalone)"


class ProvisionPolicy(models.Model):
    """One version of an entity's provision policy, in force from `effective_date` until the next
    version's. Written once: an edit is a new version."""

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="provision_policies")
    effective_date = models.DateField()
    method = models.CharField(max_length=10, choices=ReserveMethod.choices, default=ReserveMethod.MATRIX)
    segment_by = models.CharField(max_length=15, choices=ReserveSegment.choices, default="", blank=True)
    lookback_months = models.PositiveSmallIntegerField(default=12, help_text="Derived methods: months of history")
    terminal_rate = models.DecimalField(**_RATE, null=True, blank=True,
                                        help_text="Derived methods: the share of the last bucket that is lost, when "
                                                  "set (a judgment) instead of the observed write-off rate")
    min_segment_months = models.PositiveSmallIntegerField(
        default=6, help_text="Derived methods with segments: month-ends with a balance a segment needs in the "
                             "look-back to use its own rates (fewer: the pooled rates)")
    overlay_factor = models.DecimalField(max_digits=8, decimal_places=4, default=1,
                                         help_text="Forward-looking factor applied to every historical rate")
    overlay_reason = models.CharField(max_length=255, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["legal_entity", "-effective_date"]
        verbose_name_plural = "provision policies"
        permissions = [
            ("view_reserve", "Can view the bad-debt reserve, its runs, derivations and roll-forward"),
            ("manage_provision_policy", "Can enter provision policies and specific reserves"),
            ("prepare_reserve", "Can prepare (compute) a reserve run"),
            ("approve_reserve", "Can approve a reserve run (within an approval limit)"),
            ("post_reserve", "Can post and reverse an approved reserve run"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "effective_date"], name="provisionpolicy_one_per_date"),
            models.CheckConstraint(condition=Q(overlay_factor__gte=0), name="provisionpolicy_factor_nonnegative"),
            models.CheckConstraint(condition=Q(lookback_months__gte=1, lookback_months__lte=60),
                                   name="provisionpolicy_lookback_range"),
            models.CheckConstraint(condition=Q(terminal_rate__isnull=True)
                                   | Q(terminal_rate__gte=0, terminal_rate__lte=1),
                                   name="provisionpolicy_terminal_rate_range"),
        ]

    def __str__(self) -> str:
        return f"{self.legal_entity_id} policy from {self.effective_date} ({self.method})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise DomainError("A provision policy is not edited: enter a new version with a later effective date.")
        super().save(*args, **kwargs)


class ProvisionRate(models.Model):
    """A bucket's rate (matrix) or overlay (every method) for one segment (blank: every segment)."""

    policy = models.ForeignKey(ProvisionPolicy, on_delete=models.CASCADE, related_name="rates")
    segment = models.CharField(max_length=40, blank=True, default="")
    bucket = models.PositiveSmallIntegerField(help_text="Index into the entity's aging buckets (0 = current)")
    bucket_label = models.CharField(max_length=20)
    rate = models.DecimalField(**_RATE, null=True, blank=True, help_text="Matrix: the loss rate as a fraction")
    overlay = models.DecimalField(**_RATE, default=0, help_text="Added to the rate after the factor (fraction)")
    overlay_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["policy", "segment", "bucket"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "segment", "bucket"], name="provisionrate_unique"),
            models.CheckConstraint(condition=Q(rate__isnull=True) | Q(rate__gte=0, rate__lte=1),
                                   name="provisionrate_rate_range"),
            models.CheckConstraint(condition=Q(overlay__gte=-1, overlay__lte=1), name="provisionrate_overlay_range"),
        ]

    def __str__(self) -> str:
        return f"{self.segment or 'all'} {self.bucket_label}: {self.rate}"


class SpecificReason(models.TextChoices):
    BANKRUPTCY = "bankruptcy", "Bankruptcy or insolvency"
    DISPUTE = "dispute", "Dispute"
    AGENCY = "agency", "Placed with a collection agency"
    LEGAL = "legal", "Legal action"
    OTHER = "other", "Other"


class SpecificReserve(models.Model):
    """A named customer's (every invoice) or one invoice's balance reserved at a percentage; that
    balance is taken out of the matrix so nothing is reserved twice."""

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="specific_reserves")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="specific_reserves")
    invoice = models.ForeignKey("billing.Invoice", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="specific_reserves", help_text="Empty: the customer's whole balance")
    percent = models.DecimalField(max_digits=7, decimal_places=4, help_text="Share reserved, 0-100")
    reason = models.CharField(max_length=15, choices=SpecificReason.choices)
    note = models.TextField(blank=True)
    effective_from = models.DateField()
    ended_on = models.DateField(null=True, blank=True, help_text="Last day it applies (empty: until ended)")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["legal_entity", "customer", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100), name="specificreserve_percent_range"),
            models.CheckConstraint(condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("effective_from")),
                                   name="specificreserve_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"Specific {self.percent}% on {self.invoice_id or self.customer_id}"


class ReserveRun(models.Model):
    """One entity's reserve as of one date: the calculation, the true-up against the allowance
    account and its approval and posting."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        POSTED = "posted", "Posted"
        REVERSED = "reversed", "Reversed"
        REPLACED = "replaced", "Replaced by a re-run"

    TRANSITIONS = {
        "proposed": ("approved", "replaced"),
        "approved": ("posted", "replaced"),
        "posted": ("reversed",),
        "reversed": (),
        "replaced": (),
    }
    LIVE = ("proposed", "approved", "posted")
    # What a posted run may still change (becoming reversed), everything else is frozen.
    REVERSAL_FIELDS = frozenset({"status", "reversed_by", "reversed_at", "reversal_entry", "reversal_reason"})
    # The calculation sheet of a posted run, rendered and stored once after posting (i11c).
    SHEET_FIELDS = frozenset({"sheet_pdf", "sheet_pdf_sha256"})

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="reserve_runs")
    as_of = models.DateField()
    policy = models.ForeignKey(ProvisionPolicy, on_delete=models.PROTECT, related_name="runs")
    snapshot = models.ForeignKey("receivables.AgingSnapshot", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    functional_currency = models.CharField(max_length=3)
    matrix_total = models.DecimalField(**_MONEY)
    specific_total = models.DecimalField(**_MONEY)
    required_total = models.DecimalField(**_MONEY)
    ledger_balance = models.DecimalField(**_MONEY, help_text="Allowance account credit balance as of the date")
    adjustment = models.DecimalField(**_MONEY, help_text="True-up: + charge to bad-debt expense, - release")
    derivation = models.JSONField(default=dict, blank=True, help_text="Derived rates with their trace")
    segments = models.JSONField(default=dict, blank=True, help_text="Customer id -> segment used (segmented policies)")
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    posted_at = models.DateTimeField(null=True, blank=True)
    journal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    reversal_reason = models.CharField(max_length=255, blank=True)
    sheet_pdf = models.FileField(upload_to="reserve/%Y/%m/", blank=True,
                                 help_text="The calculation sheet as posted (stored once, after posting)")
    sheet_pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-as_of", "legal_entity_id", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "as_of"],
                                    condition=Q(status__in=["proposed", "approved", "posted"]),
                                    name="reserverun_one_live_per_date"),
        ]

    def __str__(self) -> str:
        return f"Reserve {self.legal_entity_id} as of {self.as_of} ({self.status})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            stored, stored_sha = type(self).objects.filter(pk=self.pk).values_list(
                "status", "sheet_pdf_sha256").first() or (None, "")
            fields = set(kwargs.get("update_fields") or ())
            if stored == "posted" and fields and fields <= self.SHEET_FIELDS and self.status == "posted":
                if stored_sha:
                    raise DomainError("The calculation sheet of a posted reserve run is stored once; it is immutable.")
                return super().save(*args, **kwargs)
            if stored in ("posted", "reversed") and (
                    stored == "reversed" or not fields or not fields <= self.REVERSAL_FIELDS
                    or self.status != "reversed"):
                raise DomainError("A posted reserve run is immutable: reverse it and prepare a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status in ("posted", "reversed"):
            raise DomainError("A posted reserve run cannot be deleted.")
        return super().delete(*args, **kwargs)


class ReserveLine(models.Model):
    """One line of a run's calculation sheet, in the functional currency: a segment and bucket of
    the matrix, or one specific reserve."""

    class Kind(models.TextChoices):
        MATRIX = "matrix", "Provision matrix"
        SPECIFIC = "specific", "Specific reserve"

    run = models.ForeignKey(ReserveRun, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    segment = models.CharField(max_length=40, blank=True, default="")
    bucket = models.PositiveSmallIntegerField(null=True, blank=True)
    bucket_label = models.CharField(max_length=20, blank=True)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    invoice = models.ForeignKey("billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    specific = models.ForeignKey(SpecificReserve, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=255, blank=True)
    balance = models.DecimalField(**_MONEY)
    base_rate = models.DecimalField(**_RATE)
    overlay = models.DecimalField(**_RATE, default=0)
    rate = models.DecimalField(**_RATE, help_text="Rate applied: base x factor + overlay, capped to 0-1")
    allowance = models.DecimalField(**_MONEY)

    class Meta:
        ordering = ["run", "kind", "segment", "bucket", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.segment} {self.bucket_label}: {self.allowance}"

    def save(self, *args, **kwargs):
        if self._frozen():
            raise DomainError("The lines of a posted reserve run are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._frozen():
            raise DomainError("The lines of a posted reserve run are immutable.")
        return super().delete(*args, **kwargs)

    def _frozen(self) -> bool:
        return ReserveRun.objects.filter(pk=self.run_id, status__in=("posted", "reversed")).exists()
