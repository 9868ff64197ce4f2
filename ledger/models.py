"""Legal entities, chart of accounts, periods, FX rates, numbering series, immutable journal
entries and the AR subledger (open items).

Journal lines are signed: a debit is positive, a credit negative. Every line on a subledger
account (AR, unapplied cash) carries the customer and opens or settles an open item, so the
account's balance always equals the sum of its open items (see selectors.ar_reconciliation).
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from otc.countries import country_choices
from otc.errors import DomainError
from otc.money import MAX_DIGITS, STORAGE_PLACES

RATE_DIGITS, RATE_PLACES = 24, 10


class LegalEntity(models.Model):
    code = models.CharField(max_length=10, unique=True, help_text="Short code, e.g. US01")
    name = models.CharField(max_length=120)
    legal_name = models.CharField(max_length=200)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, choices=country_choices)
    tax_id = models.CharField(max_length=40)
    registration_number = models.CharField(max_length=60, blank=True, help_text="Company register number")
    functional_currency = models.CharField(max_length=3)
    invoice_prefix = models.CharField(max_length=10, help_text="e.g. US-INV")
    credit_note_prefix = models.CharField(max_length=10, help_text="e.g. US-CN")
    einvoice_endpoint = models.CharField(max_length=80, blank=True, help_text="Peppol endpoint of the seller")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    bank_name = models.CharField(max_length=120, blank=True)
    bank_account_name = models.CharField(max_length=200, blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True)
    bic = models.CharField("BIC / SWIFT", max_length=11, blank=True)
    bank_account_number = models.CharField(max_length=34, blank=True)
    bank_routing_number = models.CharField(max_length=20, blank=True)
    remittance_note = models.TextField(blank=True, help_text="Printed on invoices and statements")
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "legal entities"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Account(models.Model):
    class Type(models.TextChoices):
        ASSET = "asset", "Asset"
        LIABILITY = "liability", "Liability"
        EQUITY = "equity", "Equity"
        REVENUE = "revenue", "Revenue"
        EXPENSE = "expense", "Expense"

    class Role(models.TextChoices):
        AR = "ar", "Accounts receivable (control)"
        UNAPPLIED_CASH = "unapplied_cash", "Unapplied cash"
        CASH = "cash", "Cash / bank"
        TAX_PAYABLE = "tax_payable", "Tax payable"
        REVENUE = "revenue", "Revenue"
        DEFERRED_REVENUE = "deferred_revenue", "Deferred revenue"
        ALLOWANCE = "allowance", "Allowance for doubtful accounts"
        BAD_DEBT_EXPENSE = "bad_debt_expense", "Bad-debt expense"
        BAD_DEBT_RECOVERY = "bad_debt_recovery", "Bad-debt recoveries"
        FX_GAIN_LOSS = "fx_gain_loss", "FX gain / loss"
        CUSTOMER_DEPOSITS = "customer_deposits", "Customer deposits"
        ROUNDING = "rounding", "Rounding differences"
        SUSPENSE = "suspense", "Suspense"
        OPENING_BALANCE = "opening_balance", "Opening balance equity"
        OTHER = "other", "Other"

    # Roles with at most one account per entity; services look them up by role.
    SINGLE_ROLES = (
        "ar", "unapplied_cash", "tax_payable", "deferred_revenue", "allowance", "bad_debt_expense",
        "bad_debt_recovery", "fx_gain_loss", "customer_deposits", "rounding", "suspense", "opening_balance",
    )
    # Customer subledger accounts: every line carries a customer and an open item.
    SUBLEDGER_ROLES = ("ar", "unapplied_cash")

    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="accounts")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    type = models.CharField(max_length=10, choices=Type.choices)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OTHER)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["legal_entity", "code"]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "code"], name="account_code_unique_per_entity"),
            models.UniqueConstraint(
                fields=["legal_entity", "role"], condition=Q(role__in=[
                    "ar", "unapplied_cash", "tax_payable", "deferred_revenue", "allowance", "bad_debt_expense",
                    "bad_debt_recovery", "fx_gain_loss", "customer_deposits", "rounding", "suspense",
                    "opening_balance",
                ]), name="account_single_role_per_entity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_subledger(self) -> bool:
        return self.role in self.SUBLEDGER_ROLES


class Period(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    TRANSITIONS = {"open": ("closed",), "closed": ("open",)}

    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="periods")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    history = HistoricalRecords()

    class Meta:
        ordering = ["legal_entity", "year", "month"]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "year", "month"], name="period_unique"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="period_month_range"),
        ]

    def __str__(self) -> str:
        return f"{self.legal_entity.code} {self.year}-{self.month:02d}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}"


class FxRate(models.Model):
    """1 unit of `from_currency` = `rate` units of `to_currency`, on `date`."""

    date = models.DateField()
    from_currency = models.CharField(max_length=3)
    to_currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=RATE_DIGITS, decimal_places=RATE_PLACES)
    source = models.CharField(max_length=60, blank=True, default="manual")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "from_currency", "to_currency"]
        constraints = [
            models.UniqueConstraint(fields=["date", "from_currency", "to_currency"], name="fxrate_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="fxrate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.date} 1 {self.from_currency} = {self.rate} {self.to_currency}"


class NumberSeries(models.Model):
    """Gapless numbering per (legal entity, document type, fiscal year), taken under a row lock
    inside the posting transaction; never from a database sequence."""

    class DocType(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"
        JOURNAL = "journal", "Journal entry"

    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="number_series")
    doc_type = models.CharField(max_length=20, choices=DocType.choices)
    fiscal_year = models.PositiveSmallIntegerField()
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "doc_type", "fiscal_year"], name="numberseries_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.legal_entity.code} {self.doc_type} {self.fiscal_year}: next {self.next_number}"


class ImmutableQuerySet(models.QuerySet):
    """Bulk UPDATE and DELETE are refused too (PostgreSQL also refuses them in a trigger)."""

    def update(self, **kwargs):
        raise DomainError(f"Posted {self.model._meta.verbose_name_plural} are immutable; post a reversal instead.")

    def delete(self):
        raise DomainError(f"Posted {self.model._meta.verbose_name_plural} cannot be deleted; post a reversal instead.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise DomainError(f"Posted {self.model._meta.verbose_name_plural} are immutable; post a reversal instead.")


class ImmutableModel(models.Model):
    """Rows that are written once. Corrections are new rows (a reversal), never edits."""

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise DomainError(f"A posted {self._meta.verbose_name} is immutable; post a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DomainError(f"A posted {self._meta.verbose_name} cannot be deleted; post a reversal instead.")


class JournalEntry(ImmutableModel):
    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"
        RECEIPT = "receipt", "Receipt"
        APPLICATION = "application", "Cash application"
        WRITE_OFF = "write_off", "Write-off"
        RESERVE = "reserve", "Bad-debt reserve"
        RECOVERY = "recovery", "Recovery"
        OPENING = "opening", "Opening balance"
        MANUAL = "manual", "Manual journal"
        REVERSAL = "reversal", "Reversal"

    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="journal_entries",
                                     db_index=False)  # (legal_entity, entry_date) covers it
    number = models.CharField(max_length=30)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    entry_date = models.DateField(help_text="Posting date: in an open period")
    document_date = models.DateField(help_text="Date of the source document")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="entries")
    memo = models.CharField(max_length=255, blank=True)
    source_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT,
                                    db_index=False)  # (source_type, source_id) covers it
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    source_reference = models.CharField(max_length=60, blank=True, help_text="e.g. the invoice number")
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
                                  db_index=False)
    posted_at = models.DateTimeField(auto_now_add=True)
    opened_items: list[OpenItem]  # not a field: set on the entries journal_post_batch returns
    line_rows: list[JournalLine]  # not a field: the entry page's lines, set by ledger.selectors

    class Meta:
        ordering = ["-entry_date", "-id"]
        verbose_name_plural = "journal entries"
        permissions = [
            ("post_manual_journal", "Can post manual journal entries"),
            ("view_trial_balance", "Can view the trial balance and ledger reports"),
            ("export_gl", "Can export the general ledger"),
            ("manage_periods", "Can close and reopen accounting periods"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "number"], name="journalentry_number_unique"),
        ]
        indexes = [
            models.Index(fields=["legal_entity", "entry_date"]),
            models.Index(fields=["source_type", "source_id"]),
        ]

    def __str__(self) -> str:
        return self.number


class OpenItem(models.Model):
    """One customer document's open balance on a subledger account: invoices and debits are
    positive, unapplied cash and credits negative. `open_amount` only ever moves toward zero
    or back toward `original_amount` (the constraint below), and it equals the sum of the
    journal lines that point at the item."""

    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="open_items",
                                     db_index=False)  # (legal_entity, customer, currency) covers it
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="open_items")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="open_items",
                                 db_index=False)  # (customer, due_date) covers it
    currency = models.CharField(max_length=3)
    document_type = models.CharField(max_length=20)
    document_number = models.CharField(max_length=60)
    document_date = models.DateField()
    due_date = models.DateField()
    source_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT)
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    original_amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES)
    open_amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(original_amount=0), name="openitem_original_nonzero"),
            models.CheckConstraint(
                condition=(
                    Q(original_amount__gt=0, open_amount__gte=0, open_amount__lte=models.F("original_amount"))
                    | Q(original_amount__lt=0, open_amount__lte=0, open_amount__gte=models.F("original_amount"))
                ),
                name="openitem_open_within_original",
            ),
        ]
        indexes = [
            models.Index(fields=["legal_entity", "customer", "currency"]),
            models.Index(fields=["customer", "due_date"]),
            # The aging reads only the items still open (a small share of all items once a company
            # has history): a partial covering index lets PostgreSQL answer from the index alone.
            models.Index(fields=["legal_entity", "customer", "currency"], condition=~Q(open_amount=0),
                         include=["account", "due_date", "document_date", "original_amount", "open_amount"],
                         name="openitem_open_aging"),
        ]

    def __str__(self) -> str:
        from otc.money import money_text

        return f"{self.document_number} ({money_text(self.open_amount, self.currency)} open)"

    @property
    def is_open(self) -> bool:
        return self.open_amount != 0


class JournalLine(ImmutableModel):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines",
                                db_index=False)  # (account, currency) covers it
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="journal_lines"
    )
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES, help_text="+ debit, - credit")
    fx_rate = models.DecimalField(max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, default=1)
    functional_amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES)
    description = models.CharField(max_length=255, blank=True)
    open_item = models.ForeignKey(
        OpenItem, null=True, blank=True, on_delete=models.PROTECT, related_name="lines"
    )

    class Meta:
        ordering = ["entry", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="journalline_amount_nonzero"),
        ]
        indexes = [models.Index(fields=["account", "currency"])]

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount} {self.currency}"

    @property
    def debit(self):
        return self.amount if self.amount > 0 else None

    @property
    def credit(self):
        return -self.amount if self.amount < 0 else None

    @property
    def functional_debit(self):
        return self.functional_amount if self.functional_amount > 0 else None

    @property
    def functional_credit(self):
        return -self.functional_amount if self.functional_amount < 0 else None
