"""Billing runs (the month-end) and the exceptions that explain what a run did not bill."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class BillingRun(models.Model):
    class Status(models.TextChoices):
        GENERATING = "generating", "Generating drafts"
        GENERATED = "generated", "Drafts ready"
        ISSUING = "issuing", "Issuing"
        ISSUED = "issued", "Issued"
        FAILED = "failed", "Failed"

    # The moves a run may make (billing/services/run.py; otc.services.status_move enforces them and
    # writes the status rows). Issuing again (drafts released from hold since) moves an issued or
    # issuing run back to issuing.
    TRANSITIONS = {
        "generating": ("generated", "failed"),
        "generated": ("issuing", "failed"),
        "issuing": ("issuing", "issued", "failed"),
        "issued": ("issuing",),
        "failed": (),
    }

    period_start = models.DateField(help_text="First day of the billed month")
    legal_entity = models.ForeignKey("ledger.LegalEntity", null=True, blank=True, on_delete=models.PROTECT,
                                     help_text="Empty: every legal entity")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.GENERATING)
    contracts_total = models.PositiveIntegerField(default=0)
    contracts_done = models.PositiveIntegerField(default=0)
    invoices_created = models.PositiveIntegerField(default=0)
    invoices_issued = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    exceptions_count = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    scheduled = models.BooleanField(
        default=False, help_text="Started by the monthly schedule: at most one such run a month (a constraint decides)")
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    documents_done_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the last issued invoice was rendered and delivered (e-mailed, queued for its portal or to post)")
    issue_pending = models.JSONField(
        default=list, blank=True,
        help_text="Chunks still issuing, by their first draft's id (the last to finish marks the run issued)")

    class Meta:
        ordering = ["-period_start", "-id"]
        permissions = [("start_billing_run", "Can start and issue billing runs")]
        constraints = [models.UniqueConstraint(fields=["period_start"], condition=Q(scheduled=True),
                                               name="billingrun_monthly_once")]

    def __str__(self) -> str:
        return f"Billing run {self.period_start:%Y-%m} #{self.pk}"


class BillingException(models.Model):
    """Why a contract was not billed, or billed onto a held draft, in a run."""

    class Severity(models.TextChoices):
        WARNING = "warning", "Warning (billed)"
        HOLD = "hold", "Held (draft on hold)"
        SKIP = "skip", "Skipped (not billed)"

    class Code(models.TextChoices):
        CUSTOMER_BLOCKED = "customer_blocked", "Customer blocked"
        ALREADY_INVOICED = "already_invoiced", "Already invoiced"
        NO_LINES = "no_lines", "No lines"
        NOTHING_TO_BILL = "nothing_to_bill", "Nothing to bill"
        TAX_CODE_MISSING = "tax_code_missing", "Tax code missing"
        CUSTOMER_ON_HOLD = "customer_on_hold", "Customer on hold"
        PO_MISSING = "po_missing", "PO number missing"
        MISSING_TAX_ID = "missing_tax_id", "VAT id missing"
        USAGE_MISSING = "usage_missing", "Usage not reported"
        ISSUE_FAILED = "issue_failed", "Issue failed"

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="exceptions",
                            db_index=False)  # the unique (run, contract, code) covers it
    contract = models.ForeignKey("contracts.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=40, choices=Code.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "contract", "code"], name="billingexception_once")]

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
