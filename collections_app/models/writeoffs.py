"""Write-offs: uncollectible AR open items (invoices, or items without one such as migrated
opening balances) written off after approval, against the allowance for doubtful accounts (or
to bad-debt expense), with VAT bad-debt relief where the entity allows it, and recoveries.

A write-off is one customer's items in one entity and currency. Its amount is the items' open
amounts when requested; posting closes the items. A small-balance batch groups the write-offs
a policy proposes for one month so that one approval decides them all.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from otc.money import MAX_DIGITS, STORAGE_PLACES

MONEY = {"max_digits": MAX_DIGITS, "decimal_places": STORAGE_PLACES}


class WriteOffReason(models.TextChoices):
    BANKRUPTCY = "bankruptcy", "Bankruptcy"
    AGENCY = "agency", "Uncollectible after agency"
    SETTLEMENT = "settlement", "Settlement"
    SMALL_BALANCE = "small_balance", "Small balance"
    DECEASED = "deceased", "Customer deceased or dissolved"
    LIMITATION = "limitation", "Statute of limitations"


class WriteOffStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    POSTED = "posted", "Posted"


LIVE_STATUSES = (WriteOffStatus.DRAFT, WriteOffStatus.SUBMITTED, WriteOffStatus.APPROVED)


class RecoveryMode(models.TextChoices):
    REINSTATE = "reinstate", "Reinstate the write-off and apply the cash"
    INCOME = "income", "Book the recovery as income"


class WriteOffPolicy(models.Model):
    """Per legal entity: where write-offs post, VAT relief, recoveries, the small-balance rule and
    the amount above which a write-off needs two approvals. Without a row the defaults apply."""

    legal_entity = models.OneToOneField("ledger.LegalEntity", on_delete=models.PROTECT,
                                        related_name="write_off_policy")
    use_allowance = models.BooleanField(
        default=True, help_text="Debit the allowance for doubtful accounts; off: debit bad-debt expense")
    vat_relief = models.BooleanField(
        default=False, help_text="The jurisdiction allows VAT bad-debt relief: reclaim the tax portion")
    recovery_mode = models.CharField(max_length=10, choices=RecoveryMode.choices, default=RecoveryMode.REINSTATE)
    second_approval_above = models.DecimalField(
        **MONEY, null=True, blank=True,
        help_text="In the functional currency: above this a second, different approver is needed")
    small_balance_enabled = models.BooleanField(default=False)
    small_balance_max = models.DecimalField(**MONEY, default=0,
                                            help_text="In the functional currency: open items up to this amount")
    small_balance_min_age_days = models.PositiveIntegerField(default=180, help_text="Days past due at least")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "write-off policies"
        constraints = [models.CheckConstraint(condition=Q(small_balance_max__gte=0),
                                              name="writeoffpolicy_small_balance_nonnegative")]

    def __str__(self) -> str:
        return f"Write-off policy {self.legal_entity_id}"


class WriteOffBatch(models.Model):
    """The small balances one month's policy run proposes, decided by one approval."""

    TRANSITIONS = {
        "draft": ("submitted",),
        "submitted": ("approved", "rejected"),
        "approved": ("posted",),
        "rejected": (),
        "posted": (),
    }

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="write_off_batches")
    month = models.DateField(help_text="First day of the month the batch is for")
    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=WriteOffStatus.choices, default=WriteOffStatus.DRAFT)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", help_text="Empty: proposed by the monthly schedule")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    posted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month", "legal_entity"]
        verbose_name_plural = "write-off batches"
        constraints = [models.UniqueConstraint(fields=["legal_entity", "month"], name="writeoffbatch_once_per_month")]

    def __str__(self) -> str:
        return f"Small balances {self.month:%Y-%m} ({self.legal_entity_id})"


class WriteOff(models.Model):
    TRANSITIONS = {
        "draft": ("submitted",),
        "submitted": ("approved", "rejected"),
        "approved": ("posted", "rejected"),
        "rejected": (),
        "posted": (),
    }

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="write_offs")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="write_offs")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY, help_text="Gross, in the items' currency")
    reason = models.CharField(max_length=20, choices=WriteOffReason.choices)
    explanation = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=WriteOffStatus.choices, default=WriteOffStatus.DRAFT)
    batch = models.ForeignKey(WriteOffBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="write_offs")
    required_approvals = models.PositiveSmallIntegerField(default=1)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="write_offs_requested", help_text="Empty: the schedule")
    requested_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    # set when posted
    debit_role = models.CharField(max_length=20, blank=True, help_text="allowance or bad_debt_expense")
    tax_relief = models.DecimalField(**MONEY, default=0, help_text="VAT reclaimed (bad-debt relief)")
    journal_entry = models.OneToOneField("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    posted_at = models.DateTimeField(null=True, blank=True)
    recovered_amount = models.DecimalField(**MONEY, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = "write-off"
        permissions = [
            ("request_writeoff", "Request write-offs"),
            ("approve_writeoff", "Approve or reject write-offs (within a write-off approval limit)"),
            ("post_writeoff", "Post approved write-offs to the ledger"),
            ("manage_writeoff_policy", "Set the write-off policy of a legal entity"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="writeoff_amount_positive"),
            models.CheckConstraint(condition=Q(recovered_amount__gte=0, recovered_amount__lte=models.F("amount")),
                                   name="writeoff_recovered_within_amount"),
        ]
        indexes = [models.Index(fields=["status", "legal_entity"]), models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return f"WO-{self.pk:06d}" if self.pk else "New write-off"

    @property
    def number(self) -> str:
        return str(self)


class WriteOffLine(models.Model):
    """One open item written off (and the invoice it belongs to, when it has one)."""

    write_off = models.ForeignKey(WriteOff, on_delete=models.CASCADE, related_name="lines")
    open_item = models.ForeignKey("ledger.OpenItem", on_delete=models.PROTECT, related_name="write_off_lines")
    invoice = models.ForeignKey("billing.Invoice", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="write_off_lines")
    document_number = models.CharField(max_length=60)
    amount = models.DecimalField(**MONEY, help_text="Gross amount written off")
    partial = models.BooleanField(default=False, help_text="Part of the item's open amount; the rest stays open")
    tax_amount = models.DecimalField(**MONEY, default=0, help_text="VAT relief on this item (set when posted)")
    tax_accounts = models.JSONField(default=dict, blank=True,
                                    help_text="VAT relief per output-VAT account id (set when posted)")
    recovered_amount = models.DecimalField(**MONEY, default=0)

    class Meta:
        ordering = ["write_off", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="writeoffline_amount_positive"),
            models.CheckConstraint(condition=Q(recovered_amount__gte=0, recovered_amount__lte=models.F("amount")),
                                   name="writeoffline_recovered_within_amount"),
            models.UniqueConstraint(fields=["write_off", "open_item"], name="writeoffline_once_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.document_number}: {self.amount}"


class WriteOffApproval(models.Model):
    """One level of the approval chain: a different person each, never the requester."""

    write_off = models.ForeignKey(WriteOff, on_delete=models.CASCADE, related_name="approvals")
    level = models.PositiveSmallIntegerField()
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    limit = models.DecimalField(**MONEY, help_text="The approver's write-off limit at the time")
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["write_off", "level"]
        constraints = [
            models.UniqueConstraint(fields=["write_off", "level"], name="writeoffapproval_once_per_level"),
            models.UniqueConstraint(fields=["write_off", "approver"], name="writeoffapproval_once_per_person"),
        ]

    def __str__(self) -> str:
        return f"Level {self.level} by {self.approver_id}"


class WriteOffAttachment(models.Model):
    """Evidence: a court notice, the agency's closing letter, a settlement agreement..."""

    write_off = models.ForeignKey(WriteOff, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="write_offs/%Y/%m/")
    name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["write_off", "id"]

    def __str__(self) -> str:
        return self.name


class WriteOffRecovery(models.Model):
    """Cash received for a written-off item: the write-off reinstated (allowance or expense
    credited back) or booked as recovery income; the tax relief is repaid either way."""

    write_off = models.ForeignKey(WriteOff, on_delete=models.PROTECT, related_name="recoveries")
    line = models.ForeignKey(WriteOffLine, on_delete=models.PROTECT, related_name="recoveries")
    mode = models.CharField(max_length=10, choices=RecoveryMode.choices)
    amount = models.DecimalField(**MONEY)
    tax_amount = models.DecimalField(**MONEY, default=0)
    receipt = models.ForeignKey("receivables.Receipt", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    journal_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["write_off", "id"]
        verbose_name_plural = "write-off recoveries"
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="writeoffrecovery_amount_positive")]

    def __str__(self) -> str:
        return f"Recovery {self.amount} on {self.write_off_id}"
