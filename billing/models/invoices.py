"""Invoices and their lines."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from simple_history.models import HistoricalRecords

from otc.bulk import instance_from_db
from otc.money import STORAGE_PLACES

from .documents import MONEY, QTY, RATE, DocumentGuard, draft_q
from .runs import BillingRun
from .tax import TaxCode


class Invoice(DocumentGuard):
    # After issue only these move (through the services): status, paid and credited amounts, the
    # void stamps; the PDFs and their SHA-256 are stored once.
    MOVABLE = frozenset({"status", "amount_paid", "amount_credited", "updated_at", "voided_by", "voided_at",
                         "void_reason", "void_entry", "void_credit_note", "amount_written_off"})
    ONCE = frozenset({"pdf", "pdf_sha256", "void_pdf", "void_pdf_sha256"})

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"
        WRITTEN_OFF = "written_off", "Written off"

    @classmethod
    def from_db(cls, db, field_names, values):
        # Whole rows without Model.__init__ (otc.bulk.instance_from_db): issuing reads thousands.
        return instance_from_db(cls, db, field_names, values)

    TRANSITIONS = {
        "draft": ("issued",),
        "issued": ("partially_paid", "paid", "void", "written_off"),
        "partially_paid": ("paid", "issued", "written_off"),
        "paid": ("partially_paid", "issued"),
        "void": (),
        # a write-off approved and posted (collections_app); a recovery reinstates it
        "written_off": ("issued", "partially_paid", "paid"),
    }

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="invoices",
                                 db_index=False)  # (customer, status) covers it
    contract = models.ForeignKey("contracts.Contract", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="invoices", help_text="Empty for manual invoices")
    billing_period_start = models.DateField(null=True, blank=True, help_text="Billed month (run invoices)")
    billing_run = models.ForeignKey(BillingRun, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices")
    currency = models.CharField(max_length=3)
    number = models.CharField(max_length=40, blank=True, help_text="Assigned at issue: gapless per entity and year")
    journal_number = models.CharField(
        max_length=40, blank=True,
        help_text="Journal entry number reserved with the invoice number; a draft with a number is being issued")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    on_hold = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=255, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    po_number = models.CharField("PO number", max_length=60, blank=True)
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True)
    net_total = models.DecimalField(**MONEY, default=0)
    tax_total = models.DecimalField(**MONEY, default=0)
    gross_total = models.DecimalField(**MONEY, default=0)
    amount_credited = models.DecimalField(**MONEY, default=0)
    amount_paid = models.DecimalField(**MONEY, default=0)
    amount_written_off = models.DecimalField(**MONEY, default=0,
                                             help_text="Written off as uncollectible (less what was recovered)")
    bill_to = models.JSONField(default=dict, blank=True, help_text="Customer name, address, tax id as issued")
    seller = models.JSONField(default=dict, blank=True, help_text="Entity name, address, tax id, bank as issued")
    notes = models.TextField(blank=True)
    # One-to-one, unique where set (constraints below): partial unique indexes, so the month-end
    # run's insert and numbering of a draft (and every row without a void) add no index entry.
    journal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", db_index=False)
    open_item = models.ForeignKey("ledger.OpenItem", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", db_index=False)
    pdf = models.FileField(upload_to="invoices/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
                                   db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, db_index=False,
                                  related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, db_index=False,
                                  related_name="+")
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    void_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", db_index=False)
    void_credit_note = models.ForeignKey(
        "CreditNote", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        help_text="The credit note that cancelled the invoice when it had reached the customer")
    void_pdf = models.FileField(upload_to="invoices/void/%Y/%m/", blank=True,
                                help_text="The issued PDF stamped VOID, served after the void")
    void_pdf_sha256 = models.CharField(max_length=64, blank=True)
    # History is read per invoice (id) and by date: no index on the other keys, which would cost
    # every insert (two history rows per invoice in a month-end run) for lookups nobody makes.
    history = HistoricalRecords(no_db_index=["legal_entity", "customer", "contract", "billing_run", "created_by",
                                             "issued_by", "voided_by", "journal_entry", "open_item", "void_entry",
                                             "void_credit_note"])
    hold_state: str  # not a field: the hold's state for its status-change row (services.invoices)

    class Meta:
        ordering = ["-issue_date", "-id"]
        permissions = [
            ("issue_invoice", "Can issue invoices"),
            ("void_invoice", "Can void invoices"),
            ("hold_invoice", "Can put invoices on hold and release them"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "billing_period_start"],
                condition=Q(contract__isnull=False, billing_period_start__isnull=False) & ~Q(status="void"),
                name="invoice_once_per_contract_period",
            ),
            models.UniqueConstraint(fields=["legal_entity", "number"], condition=~Q(number=""),
                                    name="invoice_number_unique_per_entity"),
            *(models.UniqueConstraint(fields=[field], condition=Q(**{f"{field}__isnull": False}),
                                      name=f"invoice_{field}_unique")
              for field in ("journal_entry", "open_item", "void_entry", "void_credit_note")),
            # Rounded so SQLite's floating-point sum (100.02 + 18.99 = 119.00999...) compares exactly.
            models.CheckConstraint(condition=Q(gross_total=Round(F("net_total") + F("tax_total"), STORAGE_PLACES)),
                                   name="invoice_gross_is_net_plus_tax"),
            models.CheckConstraint(condition=Q(status="draft") | ~Q(number=""), name="invoice_issued_has_number"),
            # Never credited or paid beyond what was invoiced. Crediting a paid invoice leaves the
            # customer a credit (a negative open item), so credited + paid may exceed gross.
            models.CheckConstraint(
                condition=Q(amount_credited__gte=0, amount_paid__gte=0)
                & Q(amount_credited__lte=F("gross_total")) & Q(amount_paid__lte=F("gross_total")),
                name="invoice_not_over_credited_or_paid",
            ),
            models.CheckConstraint(
                condition=Q(amount_written_off__gte=0) & Q(amount_written_off__lte=F("gross_total")),
                name="invoice_not_over_written_off",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["billing_period_start"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft invoice #{self.pk}"

    @classmethod
    def frozen_q(cls, prefix: str | None = None) -> Q:
        return draft_q(prefix)

    @property
    def balance_due(self) -> Decimal:
        """What the customer still owes: nothing on a void invoice (its posting was reversed)."""
        if self.status == self.Status.VOID:
            return Decimal(0)
        return self.gross_total - self.amount_credited - self.amount_paid - self.amount_written_off

    @property
    def settled_at_zero(self) -> bool:
        """An issued 0.00 invoice (a free period): nothing was ever due, so it reads as settled."""
        return self.status == self.Status.ISSUED and not self.gross_total

    @property
    def status_shown(self) -> tuple[str, str]:
        """(status, label) for the badge: an issued 0.00 invoice shows as settled, not open."""
        if self.settled_at_zero:
            return self.Status.PAID, "Settled (nothing due)"
        return self.status, self.get_status_display()


class InvoiceLine(DocumentGuard):
    PARENT = "invoice"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines",
                                db_index=False)  # the unique (invoice, position) covers it
    position = models.PositiveSmallIntegerField()
    contract_line_key = models.UUIDField(null=True, blank=True, help_text="The contract line billed")
    product = models.ForeignKey("contracts.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=255)
    unit = models.CharField(max_length=3, default="C62", help_text="UN/ECE Rec 20 unit code")
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True)
    quantity = models.DecimalField(**QTY)
    unit_price = models.DecimalField(**MONEY)
    discount_percent = models.DecimalField(**RATE, default=0, help_text="Combined line and contract discount")
    net_amount = models.DecimalField(**MONEY, help_text="Rounded to the currency once per line")
    tax_code = models.ForeignKey(TaxCode, on_delete=models.PROTECT, related_name="+")
    tax_rate = models.DecimalField(**RATE)
    tax_amount = models.DecimalField(**MONEY, help_text="Rounded per line")
    revenue_account_code = models.CharField(max_length=20, default="4000")
    # not fields: what credit notes have taken and what is left, set by billing.selectors for the page
    credited_net: Decimal
    credited_tax: Decimal
    remaining_net: Decimal
    remaining_gross: Decimal

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [models.UniqueConstraint(fields=["invoice", "position"], name="invoiceline_position_unique")]

    def __str__(self) -> str:
        return self.description

    @property
    def unit_name(self) -> str:
        """The unit as people say it (each, month, transaction) rather than its UN/ECE code."""
        from contracts.models import Product

        return str(dict(Product.Unit.choices).get(self.unit, self.unit))

    @classmethod
    def frozen_q(cls, prefix: str | None = None) -> Q:
        return draft_q("invoice__" if prefix is None else prefix)
