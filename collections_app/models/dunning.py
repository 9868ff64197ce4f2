"""Dunning: a policy per legal entity with its levels, the customers kept out of dunning, the
daily runs, and the letters they produce (one per customer, entity and run, listing every
overdue invoice at its level; each left-out invoice says why).

A letter is a document: once sent its printed columns and its stored PDF never change (a
PostgreSQL trigger refuses it, migration 0002_i10b_dunning), and its PDF is served only while
its bytes match the stored SHA-256.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from otc.money import MAX_DIGITS, STORAGE_PLACES

MONEY = {"max_digits": MAX_DIGITS, "decimal_places": STORAGE_PLACES}


class Language(models.TextChoices):
    EN = "en", "English"
    DE = "de", "Deutsch"
    FR = "fr", "Français"


class DunningPolicy(models.Model):
    """How one legal entity reminds its customers. Late fees and interest are computed and shown
    on the letter (EU late-payment directive 2011/7/EU: EUR 40 fixed compensation per invoice,
    the reference rate plus 8 points per day overdue); they are never posted."""

    legal_entity = models.OneToOneField("ledger.LegalEntity", on_delete=models.PROTECT,
                                        related_name="dunning_policy")
    is_active = models.BooleanField(default=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN,
                                help_text="The language of the entity's letters and e-mails")
    sender_name = models.CharField(max_length=120, blank=True, help_text="Signs the letters, e.g. Credit Control")
    sender_email = models.EmailField(blank=True, help_text="From address of the e-mails (else the entity's)")
    preview_required = models.BooleanField(
        default=False, help_text="The run stops with its letters as drafts until someone sends them")
    statement_max_age_days = models.PositiveSmallIntegerField(
        default=3, help_text="Refuse to send while a bank account's last imported statement is older than this")
    reference_rate = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("0"),
                                         help_text="Central bank reference rate, percent a year")
    interest_margin = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("8"),
                                          help_text="Points above the reference rate (directive: 8)")
    fixed_compensation = models.DecimalField(**MONEY, default=Decimal("40"),
                                             help_text="Fixed compensation per invoice (directive: EUR 40)")
    compensation_currency = models.CharField(max_length=3, default="EUR")
    key_accounts = models.ManyToManyField("customers.Customer", blank=True, related_name="+",
                                          help_text="Customers this entity never duns (key accounts)")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name_plural = "dunning policies"
        permissions = [
            ("manage_dunning_policy", "Set dunning and credit-hold policies"),
            ("run_dunning", "Start dunning runs and send their letters"),
            ("exclude_from_dunning", "Keep a customer out of dunning"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(reference_rate__gte=0, interest_margin__gte=0,
                                               fixed_compensation__gte=0), name="dunningpolicy_rates_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"Dunning policy of {self.legal_entity_id}"

    @property
    def annual_rate(self) -> Decimal:
        return self.reference_rate + self.interest_margin


class DunningLevel(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail with the letter attached"
        LETTER = "letter", "Letter (PDF to print and post)"

    class Template(models.TextChoices):
        FRIENDLY = "friendly", "Friendly reminder"
        FIRM = "firm", "Firm reminder"
        FINAL = "final", "Final notice"

    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="levels")
    number = models.PositiveSmallIntegerField(help_text="1 for the first reminder, then 2, 3...")
    days_after_due = models.PositiveSmallIntegerField()
    template = models.CharField(max_length=10, choices=Template.choices, default=Template.FRIENDLY)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    escalate = models.BooleanField(default=False, help_text="A person calls the customer too (a task for the collector)")
    escalate_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    charge_fee = models.BooleanField(default=False, help_text="Show the fixed compensation per invoice")
    charge_interest = models.BooleanField(default=False, help_text="Show statutory interest per invoice")

    class Meta:
        ordering = ["policy", "number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="dunninglevel_number_once"),
            models.UniqueConstraint(fields=["policy", "days_after_due"], name="dunninglevel_days_once"),
            models.CheckConstraint(condition=Q(number__gte=1), name="dunninglevel_number_positive"),
        ]

    def __str__(self) -> str:
        return f"Level {self.number} ({self.days_after_due} days)"


class DunningExclusion(models.Model):
    """The flag that keeps one customer (or, with `invoice`, one of its invoices: "on hold for
    dunning") out of dunning, with who and why; lifting it stamps `lifted_at`. At most one active
    flag per customer and per invoice."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="dunning_exclusions")
    invoice = models.ForeignKey("billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text="Empty: the whole customer")
    reason = models.CharField(max_length=255)
    until = models.DateField(null=True, blank=True, help_text="Empty: until lifted")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(lifted_at__isnull=True, invoice__isnull=True),
                                    name="dunningexclusion_one_active"),
            models.UniqueConstraint(fields=["invoice"], condition=Q(lifted_at__isnull=True, invoice__isnull=False),
                                    name="dunningexclusion_one_active_per_invoice"),
            models.CheckConstraint(condition=~Q(reason=""), name="dunningexclusion_reason_required"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} excluded: {self.reason}"


class DunningRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PREVIEW = "preview", "Preview: waiting to be sent"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="dunning_runs")
    run_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    preview = models.BooleanField(default=False, help_text="Letters wait as drafts until someone sends them")
    refusal = models.TextField(blank=True, help_text="Why the run refused to send")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    customers_total = models.PositiveIntegerField(default=0)
    customers_done = models.PositiveIntegerField(default=0)
    letters_created = models.PositiveIntegerField(default=0)
    letters_sent = models.PositiveIntegerField(default=0)
    customers_skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-run_date", "-id"]

    def __str__(self) -> str:
        return f"Dunning run #{self.pk} {self.run_date}"


class DunningSkip(models.Model):
    """A customer the run did not remind, and why (unapplied receipts waiting, nothing
    collectible, excluded, already reminded at this level...)."""

    run = models.ForeignKey(DunningRun, on_delete=models.CASCADE, related_name="skips")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=30)
    reason = models.CharField(max_length=400)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "code"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.reason}"


class DunningLetter(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (preview)"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"

    # Columns that still move once the letter is sent (the rest is printed and frozen).
    MOVABLE = frozenset({"status", "pdf", "pdf_sha256", "delivery_status", "delivery_detail", "recipients",
                         "delivered_at"})

    run = models.ForeignKey(DunningRun, on_delete=models.PROTECT, related_name="letters")
    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="dunning_letters")
    level = models.PositiveSmallIntegerField(help_text="The customer's highest due level")
    letter_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    channel = models.CharField(max_length=10, choices=DunningLevel.Channel.choices)
    template = models.CharField(max_length=10, choices=DunningLevel.Template.choices)
    language = models.CharField(max_length=2, choices=Language.choices)
    escalate_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    sender = models.JSONField(default=dict, help_text="Letterhead, signature and bank details as printed")
    addressee = models.JSONField(default=dict)
    totals = models.JSONField(default=dict, help_text="Per currency: overdue, excluded, collectible, credits, "
                                                      "to pay, fees and interest (shown, never posted)")
    pdf = models.FileField(upload_to="dunning/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    recipients = models.TextField(blank=True)
    delivery_status = models.CharField(max_length=10, blank=True, help_text="sent, skipped, failed, posted")
    delivery_detail = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-letter_date", "-id"]
        constraints = [
            # The daily run is idempotent per customer, level and date: a re-run sends nothing twice.
            models.UniqueConstraint(fields=["legal_entity", "customer", "level", "letter_date"],
                                    condition=~Q(status="cancelled"), name="dunningletter_once_per_level_and_day"),
        ]
        indexes = [models.Index(fields=["customer", "letter_date"])]

    def __str__(self) -> str:
        return f"Reminder level {self.level} to {self.customer_id} on {self.letter_date}"


class DunningLetterItem(models.Model):
    """One overdue invoice of a letter: dunned at its level, or left out with the reason."""

    letter = models.ForeignKey(DunningLetter, on_delete=models.PROTECT, related_name="items")
    open_item = models.ForeignKey("ledger.OpenItem", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey("billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    document_number = models.CharField(max_length=60)
    due_date = models.DateField()
    days_overdue = models.PositiveIntegerField()
    level = models.PositiveSmallIntegerField(help_text="The invoice's own level (0: not yet due for a reminder)")
    currency = models.CharField(max_length=3)
    open_amount = models.DecimalField(**MONEY)
    disputed = models.DecimalField(**MONEY, default=0)
    promised = models.DecimalField(**MONEY, default=0)
    collectible = models.DecimalField(**MONEY, default=0)
    interest = models.DecimalField(**MONEY, default=0)
    fee = models.DecimalField(**MONEY, default=0)
    included = models.BooleanField(default=True)
    excluded_reason = models.CharField(max_length=255, blank=True)
    # not fields: the amounts as the letter prints them, set by dunning_letters.letter_context
    f_open: str
    f_collectible: str
    f_not_claimed: str
    f_interest: str
    f_fee: str

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "open_item"], name="dunningletteritem_once"),
            models.CheckConstraint(condition=Q(included=True) | ~Q(excluded_reason=""),
                                   name="dunningletteritem_exclusion_says_why"),
        ]
        indexes = [models.Index(fields=["open_item", "level"])]

    def __str__(self) -> str:
        return f"{self.document_number} at level {self.level}"
