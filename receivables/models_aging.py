"""AR aging: each entity's bucket policy and the aging snapshots (DESIGN.md "Snapshots are the
history"). Imported by receivables/models.py.

A snapshot is one legal entity's aging as of one date: one line per customer, currency, kind
(debit documents, unapplied credits, unapplied cash) and bucket, in document currency with the
FX rate used and the functional amount. At most one snapshot per entity and date is published
(`complete`); a re-run builds a new one beside it and swaps it in one transaction. A month-end
snapshot is frozen when the period closes and is never replaced after that. Trends, KPIs and
later the bad-debt reserve read snapshots, not a replay of history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from otc.money import MAX_DIGITS, STORAGE_PLACES

_MONEY = {"max_digits": MAX_DIGITS, "decimal_places": STORAGE_PLACES}


class AgingPolicy(models.Model):
    """A legal entity's aging buckets, e.g. `..0, 1-30, 31-60, 61-90, 91-120, 121..`."""

    legal_entity = models.OneToOneField("ledger.LegalEntity", on_delete=models.PROTECT, related_name="aging_policy")
    buckets = models.CharField(max_length=200, help_text="Ranges of days past due, e.g. ..0, 1-30, 31-60, 61..")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "aging policies"
        permissions = [
            ("view_aging", "Can view AR aging, KPIs and report packs"),
            ("run_aging_snapshot", "Can run and resume the aging snapshot job"),
            ("generate_ar_report", "Can generate the monthly AR report pack"),
        ]

    def __str__(self) -> str:
        return f"{self.legal_entity_id}: {self.buckets}"


class AgingSnapshotRun(models.Model):
    """One run of the snapshot job for an as-of date, in chunks of customers (progress page,
    resume after a failure)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "Nightly job"
        MANUAL = "manual", "Started by a user"
        PERIOD_CLOSE = "period_close", "Period close"
        DEMO = "demo", "Demo data"

    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=15, choices=Trigger.choices, default=Trigger.MANUAL)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    lines_written = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-as_of", "-id"]

    def __str__(self) -> str:
        return f"Aging snapshot run {self.as_of} #{self.pk}"

    @property
    def percent(self) -> int:
        return int(100 * self.chunks_done / self.chunks_total) if self.chunks_total else 0


class AgingSnapshot(models.Model):
    class Status(models.TextChoices):
        BUILDING = "building", "Building"
        COMPLETE = "complete", "Published"
        REPLACED = "replaced", "Replaced"

    run = models.ForeignKey(AgingSnapshotRun, on_delete=models.PROTECT, related_name="snapshots")
    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="aging_snapshots")
    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BUILDING)
    basis = models.CharField(max_length=10, default="due", help_text="Aged by due date or document date")
    buckets = models.CharField(max_length=200, help_text="The bucket definition used")
    functional_currency = models.CharField(max_length=3)
    fx_rates = models.JSONField(default=dict, help_text="Rate to the functional currency used per currency (as of)")
    control_balances = models.JSONField(default=dict, help_text="AR + unapplied cash control balance per currency")
    sales = models.JSONField(default=dict, help_text="Invoiced in the as-of month up to the as-of date, functional")
    books_entry_id = models.BigIntegerField(
        null=True, blank=True,
        help_text="The last journal entry id the snapshot saw: it stands for the books as of its date while no entry "
                  "dated on or before that date has a larger id")
    frozen_at = models.DateTimeField(null=True, blank=True)
    frozen_period = models.ForeignKey("ledger.Period", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-as_of", "legal_entity_id"]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "as_of"], condition=Q(status="complete"),
                                    name="agingsnapshot_one_published_per_date"),
            models.UniqueConstraint(fields=["run", "legal_entity"], name="agingsnapshot_one_per_run_entity"),
        ]

    def __str__(self) -> str:
        return f"Aging {self.legal_entity_id} as of {self.as_of} ({self.status})"


class AgingSnapshotChunk(models.Model):
    """A slice of one entity's customers; done chunks are skipped on resume."""

    snapshot = models.ForeignKey(AgingSnapshot, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    customer_ids = models.JSONField()
    done_at = models.DateTimeField(null=True, blank=True)
    lines = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["snapshot", "index"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "index"], name="agingsnapshotchunk_unique")]

    def __str__(self) -> str:
        return f"Chunk {self.index} of snapshot {self.snapshot_id}"


class AgingSnapshotLine(models.Model):
    class Kind(models.TextChoices):
        DEBIT = "debit", "Open documents"
        CREDIT = "credit", "Unapplied credits"
        UNAPPLIED = "unapplied", "Unapplied cash"

    snapshot = models.ForeignKey(AgingSnapshot, on_delete=models.CASCADE, related_name="lines")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+", db_index=False)
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    bucket = models.PositiveSmallIntegerField(help_text="Index into the snapshot's buckets (0 = current)")
    bucket_label = models.CharField(max_length=20)
    amount = models.DecimalField(**_MONEY)
    fx_rate = models.DecimalField(max_digits=24, decimal_places=10)
    functional_amount = models.DecimalField(**_MONEY)

    class Meta:
        ordering = ["snapshot", "customer", "currency", "kind", "bucket"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "customer", "currency", "kind", "bucket"],
                                    name="agingsnapshotline_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.bucket_label} {self.amount} {self.currency}"


class ArReportPack(models.Model):
    """The monthly AR report pack ("highlight risks"): PDF and XLSX of one month-end, kept with
    their SHA-256; one per month (regenerating replaces it)."""

    month = models.DateField(unique=True, help_text="Last day of the reported month")
    pdf = models.BinaryField()
    xlsx = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=64)
    exceptions = models.JSONField(default=list)
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    generated_at = models.DateTimeField()
    emailed_to = models.JSONField(default=list, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"AR report pack {self.month:%Y-%m}"
