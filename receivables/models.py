"""Receivables: bank accounts, statement imports, receipts and their applications to invoices.

Postings (receivables/services.py, DESIGN.md "Open items"):
- A receipt from an identified customer: debit the bank account's cash account, credit unapplied
  cash for the customer (a negative open item: the receipt's `open_item`).
- A receipt nobody has identified yet: debit cash, credit suspense. Identifying the customer
  later moves it: debit suspense, credit unapplied cash (opening the receipt's open item).
- An application: debit unapplied cash (settling the receipt's item toward zero), credit AR
  (settling the invoice's item). One journal entry per application, so reversing one is exact.
- A refund: debit unapplied cash, credit cash. A returned (NSF) receipt: every live application
  reversed, then the recording (and identification) reversed.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from otc.money import MAX_DIGITS, STORAGE_PLACES

MONEY = {"max_digits": MAX_DIGITS, "decimal_places": STORAGE_PLACES}


class BankAccount(models.Model):
    """A bank account of a legal entity that receipts arrive in."""

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="bank_accounts")
    name = models.CharField(max_length=120, help_text="e.g. Operating account EUR")
    bank_name = models.CharField(max_length=120, blank=True)
    account_number = models.CharField(max_length=40, help_text="IBAN or account number, as on statements")
    bic = models.CharField("BIC / routing number", max_length=20, blank=True)
    currency = models.CharField(max_length=3)
    gl_account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+",
                                   help_text="The cash account receipts are posted to")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["legal_entity__code", "name"]
        constraints = [models.UniqueConstraint(fields=["account_number"], name="bankaccount_number_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_number})"


class StatementImport(models.Model):
    """One uploaded statement file: refused whole or imported whole; a file seen before (same
    SHA-256) is not imported twice."""

    class Format(models.TextChoices):
        BAI2 = "bai2", "BAI2"
        CAMT053 = "camt053", "ISO 20022 camt.053"
        CAMT054 = "camt054", "ISO 20022 camt.054"
        MT940 = "mt940", "SWIFT MT940"
        CSV = "csv", "CSV"
        MANUAL = "manual", "Manual entry"

    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=10, choices=Format.choices)
    sha256 = models.CharField(max_length=64, unique=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)
    statements = models.PositiveIntegerField(default=0)
    receipts_created = models.PositiveIntegerField(default=0)
    duplicates_skipped = models.PositiveIntegerField(default=0)
    debits_skipped = models.PositiveIntegerField(default=0)
    auto_applied = models.PositiveIntegerField(default=0)

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        IMPORTING = "importing", "Reading and recording"
        MATCHING = "matching", "Matching"
        DONE = "done", "Done"
        FAILED = "failed", "Refused"

    # a large file is imported in the background (receivables.tasks): its progress and outcome
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DONE)
    receipts_matched = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    pending_data = models.BinaryField(null=True, blank=True, editable=False)
    pending_options = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_format_display()})"


class BankStatement(models.Model):
    statement_import = models.ForeignKey(StatementImport, on_delete=models.PROTECT, related_name="bank_statements")
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="statements")
    statement_id = models.CharField(max_length=60, blank=True)
    statement_date = models.DateField()
    opening_balance = models.DecimalField(**MONEY, null=True, blank=True)
    closing_balance = models.DecimalField(**MONEY, null=True, blank=True)
    transactions = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-statement_date", "-id"]

    def __str__(self) -> str:
        return f"{self.bank_account} {self.statement_id or self.statement_date}"


class Receipt(models.Model):
    class Status(models.TextChoices):
        UNAPPLIED = "unapplied", "Unapplied"
        PARTIALLY_APPLIED = "partially_applied", "Partially applied"
        APPLIED = "applied", "Applied"
        ON_ACCOUNT = "on_account", "On account"
        REFUNDED = "refunded", "Refunded"
        REVERSED = "reversed", "Reversed"

    class Source(models.TextChoices):
        STATEMENT = "statement", "Bank statement"
        MANUAL = "manual", "Manual entry (cheque, lockbox)"
        API = "api", "Bank integration"

    class Match(models.TextChoices):
        NONE = "none", "Not matched"
        SUGGESTED = "suggested", "Suggestions waiting"
        AUTO = "auto", "Applied automatically"
        MANUAL = "manual", "Applied by a person"

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="receipts")
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="receipts")
    statement = models.ForeignKey(BankStatement, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="receipts")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    number = models.CharField(max_length=30, help_text="RC-<entity>-<year>-000001")
    value_date = models.DateField()
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    payer_name = models.CharField(max_length=200, blank=True)
    payer_account = models.CharField(max_length=60, blank=True)
    remittance = models.TextField(blank=True)
    bank_reference = models.CharField(max_length=100, blank=True)
    end_to_end_id = models.CharField(max_length=100, blank=True)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="receipts")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNAPPLIED)
    amount_applied = models.DecimalField(**MONEY, default=0)
    amount_refunded = models.DecimalField(**MONEY, default=0)
    journal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    identify_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", help_text="Suspense to unapplied cash, when identified later")
    open_item = models.ForeignKey("ledger.OpenItem", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", help_text="The customer's unapplied cash (negative)")
    match_status = models.CharField(max_length=10, choices=Match.choices, default=Match.NONE)
    match_score = models.FloatField(null=True, blank=True)
    suggestions = models.JSONField(default=list, blank=True, help_text="Ranked suggestions with their reasons")
    reversal_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(no_db_index=["legal_entity", "bank_account", "statement", "customer",
                                             "journal_entry", "identify_entry", "open_item", "created_by"])

    TRANSITIONS = {
        "unapplied": ("partially_applied", "applied", "on_account", "refunded", "reversed"),
        "partially_applied": ("unapplied", "applied", "on_account", "refunded", "reversed"),
        "applied": ("partially_applied", "unapplied", "reversed"),
        "on_account": ("unapplied", "partially_applied", "applied", "refunded", "reversed"),
        "refunded": (),  # a refund is reversed by a manual journal first (receipt_reverse refuses)
        "reversed": (),
    }

    class Meta:
        ordering = ["-value_date", "-id"]
        permissions = [
            ("apply_receipt", "Can apply receipts and reverse applications"),
            ("import_statement", "Can import bank statements"),
            ("refund_receipt", "Can refund receipts"),
            ("reverse_receipt", "Can reverse returned receipts"),
        ]
        indexes = [
            models.Index(fields=["status", "value_date"]),
            models.Index(fields=["customer", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["bank_account", "bank_reference"], condition=~Q(bank_reference=""),
                                    name="receipt_bank_reference_once"),
            models.UniqueConstraint(fields=["legal_entity", "number"], name="receipt_number_unique"),
            models.CheckConstraint(name="receipt_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="receipt_never_over_applied",
                condition=Q(amount_applied__gte=0, amount_refunded__gte=0)
                & Q(amount_applied__lte=F("amount") - F("amount_refunded")),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def unapplied_amount(self) -> Decimal:
        return self.amount - self.amount_applied - self.amount_refunded


class ReceiptApplication(models.Model):
    """Part of a receipt applied to one invoice, or to an open item that has no invoice (an opening
    balance migrated from the previous system, a manual debit), with its own journal entry."""

    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="applications")
    invoice = models.ForeignKey("billing.Invoice", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="applications")
    open_item = models.ForeignKey("ledger.OpenItem", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", help_text="The open item paid when it has no invoice")
    amount = models.DecimalField(**MONEY)
    journal_entry = models.OneToOneField("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(max_length=40, default="manual", help_text="manual, or the matching rules that applied it")
    score = models.FloatField(null=True, blank=True)
    reason = models.TextField(blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField(auto_now_add=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reversal_entry = models.OneToOneField("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    reversal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["applied_at", "id"]
        constraints = [
            models.CheckConstraint(name="application_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(name="application_pays_one_document",
                                   condition=Q(invoice__isnull=False, open_item__isnull=True)
                                   | Q(invoice__isnull=True, open_item__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.receipt} -> {self.document_number}: {self.amount}"

    @property
    def document_number(self) -> str:
        return self.invoice.number if self.invoice_id else self.open_item.document_number


class PayerAlias(models.Model):
    """What a payer is called, or which account pays, for a customer: learned from manual
    applications and used by the matching rules."""

    class Kind(models.TextChoices):
        NAME = "name", "Payer name"
        ACCOUNT = "account", "Payer bank account"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=200, help_text="Normalised payer name or account number")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="payer_aliases")
    learned_from = models.ForeignKey(Receipt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value", "customer"], name="payer_alias_unique")]
        indexes = [models.Index(fields=["kind", "value"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} -> {self.customer}"


class StatementDelivery(models.Model):
    """A customer statement e-mailed (receivables.statements.statement_email): who sent it, when, to
    whom, the period and closing balance, and the invoices it covered (moved in the period or still
    open at its end), so each covered invoice's page lists it in its communication log. Written in
    the transaction that records the send; never changed afterwards."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="statement_deliveries")
    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    date_from = models.DateField()
    date_to = models.DateField()
    closing_balance = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES)
    recipients = models.JSONField(default=list)
    message_id = models.CharField(max_length=255)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    sent_at = models.DateTimeField()
    invoices = models.ManyToManyField("billing.Invoice", blank=True, related_name="statement_deliveries")

    class Meta:
        ordering = ["sent_at", "id"]
        indexes = [models.Index(fields=["customer", "sent_at"])]

    def __str__(self) -> str:
        return f"Statement {self.date_from}..{self.date_to} to {self.customer_id} ({self.currency})"


from .models_aging import (  # noqa: E402, F401
    AgingPolicy,
    AgingSnapshot,
    AgingSnapshotChunk,
    AgingSnapshotLine,
    AgingSnapshotRun,
    ArReportPack,
)
