"""Contracts: products, the finance policy, contracts with versions and lines, usage records,
risk assessments with findings, approvals and comments.

A Contract is the stable identity (number, CRM opportunity id, customer, entity). Its terms and
lines live in ContractVersion rows: version 1 is the deal as signed; an amendment is a new
version that goes through the same review and supersedes the previous one from its effective
date. Lines keep a stable `line_key` across versions, which billing uses (with the service
period) as its idempotency key. Reviews, findings and approvals belong to the version they
reviewed.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from otc.money import MAX_DIGITS, STORAGE_PLACES

PERCENT = {"max_digits": 7, "decimal_places": 4, "validators": [MinValueValidator(0), MaxValueValidator(100)]}
MONEY = {"max_digits": MAX_DIGITS, "decimal_places": STORAGE_PLACES}


class Product(models.Model):
    class TaxCategory(models.TextChoices):
        STANDARD = "standard", "Standard rate"
        REDUCED = "reduced", "Reduced rate"
        DIGITAL = "digital", "Digital / electronically supplied services"
        SERVICES = "services", "Professional services"
        EXEMPT = "exempt", "Exempt"

    class Unit(models.TextChoices):
        # UN/ECE Recommendation 20 codes, as e-invoices require.
        EACH = "C62", "each"
        MONTH = "MON", "month"
        YEAR = "ANN", "year"
        HOUR = "HUR", "hour"
        DAY = "DAY", "day"
        USER = "IE", "person"
        GIGABYTE = "E34", "gigabyte"
        TRANSACTION = "E48", "transaction"
        LUMP_SUM = "LS", "lump sum"

    sku = models.CharField("SKU", max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=3, choices=Unit.choices, default=Unit.EACH)
    default_price = models.DecimalField(**MONEY, default=0, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="USD", help_text="Currency of the default price")
    revenue_account_code = models.CharField(
        max_length=20, default="4000", help_text="Account code in each entity's chart, e.g. 4000 subscriptions"
    )
    tax_category = models.CharField(max_length=20, choices=TaxCategory.choices, default=TaxCategory.STANDARD)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class FinancePolicy(models.Model):
    """What finance accepts without escalation, per legal entity. A Controller edits it; every
    assessment reads it and records the values it used."""

    legal_entity = models.OneToOneField("ledger.LegalEntity", on_delete=models.PROTECT, related_name="finance_policy")
    standard_payment_terms_days = models.PositiveSmallIntegerField(default=30)
    max_payment_terms_days = models.PositiveSmallIntegerField(
        default=60, help_text="Longer terms are a high-severity finding")
    max_discount_percent = models.DecimalField(**PERCENT, default=Decimal("15"),
                                               help_text="Combined line and contract discount")
    reviewer_max_value = models.DecimalField(
        **MONEY, default=Decimal("100000"), help_text="Total contract value a reviewer approves alone")
    manager_max_value = models.DecimalField(
        **MONEY, default=Decimal("500000"), help_text="Above this a Controller approves too")
    allowed_currencies = models.JSONField(default=list, blank=True, help_text='e.g. ["USD", "EUR"]')
    high_risk_requires_prepayment = models.BooleanField(default=True)
    high_risk_min_prepayment_percent = models.DecimalField(**PERCENT, default=Decimal("25"))
    credit_warning_percent = models.DecimalField(
        **PERCENT, default=Decimal("80"), help_text="Exposure above this share of the credit limit is a warning")
    max_free_periods = models.PositiveSmallIntegerField(default=1)
    min_renewal_notice_days = models.PositiveSmallIntegerField(default=30)
    arrears_max_months = models.PositiveSmallIntegerField(
        default=1, help_text="Billing in arrears on longer periods is a warning")
    max_backdating_days = models.PositiveSmallIntegerField(default=31)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "finance policies"
        constraints = [
            models.CheckConstraint(condition=Q(manager_max_value__gte=models.F("reviewer_max_value")),
                                   name="policy_manager_above_reviewer",
                                   violation_error_message="The manager's threshold must be at least the reviewer's."),
            models.CheckConstraint(condition=Q(max_payment_terms_days__gte=models.F("standard_payment_terms_days")),
                                   name="policy_max_terms_above_standard",
                                   violation_error_message="Maximum terms must be at least the standard terms."),
        ]

    def __str__(self) -> str:
        return f"Finance policy {self.legal_entity}"


class Contract(models.Model):
    """The stable identity of a contract across its versions."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        ACTIVE = "active", "Active"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        TERMINATED = "terminated", "Terminated"

    number = models.CharField(max_length=30, unique=True, editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="contracts")
    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="contracts")
    title = models.CharField(max_length=200)
    sales_owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="owned_contracts")
    crm_opportunity_id = models.CharField("CRM opportunity id", max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT,
                              help_text="Summary of the lifecycle; the versions carry the review workflow")
    current_version = models.ForeignKey("ContractVersion", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+", help_text="The version in force (or the first draft)")
    terminated_on = models.DateField(null=True, blank=True)
    termination_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("submit_contract", "Can submit contracts for review"),
            ("review_contract", "Can review and decide on contracts"),
            ("override_blocking_finding", "Can override a blocking finding with a written reason"),
            ("manage_finance_policy", "Can edit the finance policy"),
            ("terminate_contract", "Can terminate an active contract"),
        ]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ContractVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"
        EXPIRED = "expired", "Expired"
        TERMINATED = "terminated", "Terminated"

    TRANSITIONS = {
        "draft": ("submitted",),
        "submitted": ("in_review", "approved", "rejected", "changes_requested"),
        "in_review": ("approved", "rejected", "changes_requested"),
        "changes_requested": ("draft", "submitted"),
        "approved": ("active", "superseded", "terminated"),
        "active": ("superseded", "expired", "terminated"),
        "rejected": (),
        "superseded": (),
        "expired": (),
        "terminated": (),
    }
    EDITABLE = ("draft", "changes_requested")

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        SEMI_ANNUAL = "semi_annual", "Semi-annual"
        ANNUAL = "annual", "Annual"
        ONE_TIME = "one_time", "One-time"

    MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "semi_annual": 6, "annual": 12, "one_time": 0}

    class Timing(models.TextChoices):
        ADVANCE = "advance", "In advance"
        ARREARS = "arrears", "In arrears"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveSmallIntegerField()
    amends = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="amended_by")
    effective_date = models.DateField(help_text="From when this version's terms apply (its start, or the amendment date)")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty: evergreen")
    auto_renew = models.BooleanField(default=False)
    renewal_notice_days = models.PositiveSmallIntegerField(default=0)
    billing_frequency = models.CharField(max_length=20, choices=Frequency.choices, default=Frequency.MONTHLY)
    billing_timing = models.CharField(max_length=10, choices=Timing.choices, default=Timing.ADVANCE)
    payment_terms_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(365)], help_text="Empty: the customer's terms")
    discount_percent = models.DecimalField(**PERCENT, default=0, help_text="Contract-level discount")
    po_number = models.CharField("PO number", max_length=60, blank=True)
    late_fee_percent = models.DecimalField(**PERCENT, default=0, help_text="Monthly late-fee rate")
    prepayment_percent = models.DecimalField(**PERCENT, default=0)
    free_periods = models.PositiveSmallIntegerField(default=0, help_text="Whole billing periods at zero from the start")
    notes = models.TextField(blank=True)
    signed_document = models.FileField(upload_to="contracts/%Y/%m/", blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", help_text="Controller who overrode blocking findings")
    override_reason = models.TextField(blank=True)
    override_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()
    # not fields: set on the versions of the review queues (contracts.selectors), which their
    # templates and sort keys read
    next_level: int
    latest_assessment: Assessment | None

    class Meta:
        ordering = ["contract", "version"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "version"], name="contractversion_unique"),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                                   name="contractversion_end_after_start",
                                   violation_error_message="The end date is before the start date."),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.contract.number} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class ContractLine(models.Model):
    class Kind(models.TextChoices):
        RECURRING = "recurring", "Recurring fee"
        USAGE = "usage", "Usage"
        ONE_TIME = "one_time", "One-time fee"
        MILESTONE = "milestone", "Milestone"

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="lines")
    line_key = models.UUIDField(default=uuid.uuid4, help_text="Stable across versions: billing's idempotency key")
    position = models.PositiveSmallIntegerField(default=1)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="contract_lines")
    description = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    quantity = models.DecimalField(max_digits=18, decimal_places=4, default=1, validators=[MinValueValidator(0)])
    unit_price = models.DecimalField(
        **MONEY, validators=[MinValueValidator(0)],
        help_text="Recurring: per month; usage: per unit; one-time and milestone: the fee")
    discount_percent = models.DecimalField(**PERCENT, default=0)
    minimum_commitment = models.DecimalField(
        **MONEY, default=0, validators=[MinValueValidator(0)], help_text="Usage: minimum charge per month")
    milestone_date = models.DateField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True, help_text="Empty: the contract's start")
    end_date = models.DateField(null=True, blank=True, help_text="Empty: the contract's end")

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "line_key"], name="contractline_key_unique_per_version"),
            models.CheckConstraint(condition=~Q(kind="milestone") | Q(milestone_date__isnull=False),
                                   name="contractline_milestone_has_date",
                                   violation_error_message="A milestone needs its date."),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description or self.product.name}"


class UsageRecord(models.Model):
    """Usage the CRM (or a metering system) reports for a usage line and a month. `source_id` is
    unique so a resend changes nothing."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="usage_records")
    line_key = models.UUIDField()
    period_start = models.DateField(help_text="First day of the month the usage belongs to")
    quantity = models.DecimalField(max_digits=18, decimal_places=4, validators=[MinValueValidator(0)])
    source_id = models.CharField(max_length=120, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["contract", "period_start", "id"]
        indexes = [models.Index(fields=["contract", "line_key", "period_start"])]

    def __str__(self) -> str:
        return f"{self.source_id}: {self.quantity}"


class Assessment(models.Model):
    """One run of the risk assessment over one version, with the numbers it used."""

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="assessments")
    created_at = models.DateTimeField(auto_now_add=True)
    contract_value = models.DecimalField(**MONEY, help_text="Total contract value in the contract currency")
    annual_value = models.DecimalField(**MONEY, help_text="First-year value in the contract currency")
    highest_severity = models.CharField(max_length=10)
    required_levels = models.PositiveSmallIntegerField(help_text="1 reviewer, 2 + manager, 3 + controller")
    policy_snapshot = models.JSONField(default=dict)
    exposure = models.JSONField(default=dict, help_text="Credit limit, open AR, overdue used by the credit rule")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Assessment of {self.version} ({self.highest_severity})"


class Finding(models.Model):
    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        HIGH = "high", "High"
        BLOCKING = "blocking", "Blocking"

    RANK = {"info": 0, "warning": 1, "high": 2, "blocking": 3}

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(max_length=60)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    explanation = models.TextField()
    mitigation = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["assessment", "id"]

    def __str__(self) -> str:
        return f"{self.severity}: {self.rule}"


class Approval(models.Model):
    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    LEVEL_ROLES = {1: "Contract Reviewer", 2: "Finance Manager", 3: "Controller"}

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="approvals")
    level = models.PositiveSmallIntegerField()
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contract_approvals")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(
        null=True, blank=True,
        help_text="Set when changes were requested: the approval stays as history but a resubmission starts again")

    class Meta:
        ordering = ["version", "level", "decided_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "level"], condition=Q(decision="approved", voided_at__isnull=True),
                                    name="approval_one_approval_per_level"),
            models.UniqueConstraint(fields=["version", "approver"],
                                    condition=Q(decision="approved", voided_at__isnull=True),
                                    name="approval_one_level_per_person"),
        ]

    def __str__(self) -> str:
        return f"L{self.level} {self.decision} by {self.approver}"


class ContractComment(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="comments")
    version = models.ForeignKey(ContractVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.contract}"
