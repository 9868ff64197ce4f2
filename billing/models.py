"""Billing: tax codes, invoices and credit notes with their lines, billing runs with their
exceptions, delivery logs and procurement-portal submissions.

Invoices are drafts until issued; issuing assigns the gapless number (ledger.NumberSeries),
posts the journal entry and opens the AR open item in one transaction, and stores the exact PDF
bytes and their SHA-256. Issued documents never change: credit notes and voids correct them.
A contract's invoice for a billing period exists at most once (a unique constraint decides),
which makes the month-end run idempotent.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from simple_history.models import HistoricalRecords

from otc.errors import InvalidTransition
from otc.money import MAX_DIGITS, STORAGE_PLACES

MONEY = {"max_digits": MAX_DIGITS, "decimal_places": STORAGE_PLACES}
RATE = {"max_digits": 7, "decimal_places": 4}
QTY = {"max_digits": 18, "decimal_places": 4}


class TaxCode(models.Model):
    """A tax rate for a jurisdiction and a product tax category, valid over a date range."""

    class Kind(models.TextChoices):
        STANDARD = "standard", "Standard"
        REDUCED = "reduced", "Reduced"
        ZERO = "zero", "Zero-rated"
        EXEMPT = "exempt", "Exempt"
        REVERSE_CHARGE = "reverse_charge", "Reverse charge"
        OUT_OF_SCOPE = "out_of_scope", "Outside the scope of tax"

    code = models.CharField(max_length=30, help_text="e.g. DE-VAT-19")
    name = models.CharField(max_length=120)
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=20, blank=True, help_text="State or province, where tax differs by region")
    category = models.CharField(max_length=20, help_text="Product tax category it applies to (contracts.Product)")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STANDARD)
    rate = models.DecimalField(**RATE, validators=[MinValueValidator(0)], help_text="Percent, e.g. 19.0000")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    account_code = models.CharField(max_length=20, default="2200", help_text="Tax payable account code")
    legal_note = models.TextField(blank=True, help_text="Printed on the invoice, e.g. the reverse-charge notice")
    ubl_category = models.CharField(
        max_length=2, default="S", help_text="UNCL5305 code for e-invoices: S, Z, E, AE (reverse charge), O")
    history = HistoricalRecords()

    class Meta:
        ordering = ["country", "region", "category", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="taxcode_code_from_unique"),
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                                   name="taxcode_valid_range"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.rate.normalize()}%"


# --- issued documents are immutable -------------------------------------------------------------
#
# The model and queryset refuse ORM changes to the printed columns of issued documents; on
# PostgreSQL the triggers of migration 0005 refuse them for any SQL as well (and TRUNCATE).
# `MOVABLE` are the columns the services may still move after issue (status, paid and credited
# amounts, void stamps); `ONCE` are set once after issue (the stored PDFs and their SHA-256).

class ImmutableDocumentError(InvalidTransition):
    code = "immutable_document"


class DocumentQuerySet(models.QuerySet):
    """`update()`, `delete()` and `bulk_update()` refuse to touch frozen (issued) rows' printed
    columns; drafts and the movable columns pass."""

    def _frozen(self) -> models.QuerySet:
        return self.filter(self.model.frozen_q())

    def _refuse(self, what: str) -> None:
        raise ImmutableDocumentError(
            f"Issued {self.model._meta.verbose_name_plural} are immutable: {what} refused "
            "(correct them with a credit note or a void).")

    def update(self, **kwargs):
        if set(kwargs) - self.model.MOVABLE and self._frozen().exists():
            self._refuse(f"changing {', '.join(sorted(set(kwargs) - self.model.MOVABLE))}")
        return super().update(**kwargs)

    def delete(self):
        if self._frozen().exists():
            self._refuse("deleting them")
        return super().delete()

    def bulk_update(self, objs, fields, batch_size=None):
        if set(fields) - self.model.MOVABLE and self.model._default_manager.filter(
                pk__in=[obj.pk for obj in objs]).filter(self.model.frozen_q()).exists():
            self._refuse(f"changing {', '.join(sorted(set(fields) - self.model.MOVABLE))}")
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def bulk_create(self, objs, *args, **kwargs):
        parent = getattr(self.model, "PARENT", None)
        if parent and objs:
            ids = {getattr(obj, f"{parent}_id") for obj in objs}
            model = self.model._meta.get_field(parent).related_model
            if model._default_manager.filter(pk__in=ids).filter(model.frozen_q(prefix="")).exists():
                self._refuse("adding lines")
        return super().bulk_create(objs, *args, **kwargs)


class DocumentGuard(models.Model):
    """`save()` and `delete()` of a frozen row refuse printed columns (see DocumentQuerySet)."""

    MOVABLE: frozenset[str] = frozenset()
    ONCE: frozenset[str] = frozenset()
    PARENT: str = ""

    objects = DocumentQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding or self.pk is None:
            if self.PARENT and self._parent_frozen():
                raise ImmutableDocumentError(f"The document is issued: no {self._meta.verbose_name} can be added to it.")
        else:
            refused = self._refused_changes(kwargs.get("update_fields"))
            if refused:
                raise ImmutableDocumentError(
                    f"{self} is issued and immutable: {', '.join(refused)} cannot change "
                    "(correct it with a credit note or a void).")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk is not None and self._frozen_row([]) is not None:
            raise ImmutableDocumentError(f"{self} is issued and cannot be deleted (correct it with a credit note or a void).")
        return super().delete(*args, **kwargs)

    @classmethod
    def frozen_q(cls, prefix: str | None = None) -> Q:  # pragma: no cover - each model says
        raise NotImplementedError

    def _frozen_row(self, attnames: list[str]) -> dict | None:
        """The stored values of `attnames` when the stored row is frozen, else None (one query)."""
        manager = type(self)._default_manager
        return manager.filter(pk=self.pk).filter(self.frozen_q()).values("pk", *attnames).first()

    def _parent_frozen(self) -> bool:
        parent = self._meta.get_field(self.PARENT).related_model
        return parent._default_manager.filter(pk=getattr(self, f"{self.PARENT}_id")).filter(
            parent.frozen_q(prefix="")).exists()

    def _refused_changes(self, update_fields) -> list[str]:
        """Printed columns this save would change on a frozen row (value by value, so a full
        save() that changes nothing printed passes); a ONCE column only while it is still empty."""
        names = set(update_fields) if update_fields is not None else None
        printed = [field for field in self._meta.concrete_fields if not field.primary_key
                   and field.name not in self.MOVABLE and (names is None or field.name in names)]
        if not printed:
            return []
        row = self._frozen_row([field.attname for field in printed])
        if row is None:
            return []
        refused = []
        for field in printed:
            stored, value = row[field.attname], getattr(self, field.attname)
            try:
                value = field.to_python(value) if value is not None and not hasattr(value, "name") else value
            except Exception:  # noqa: BLE001 - an unparseable value is a change
                refused.append(field.name)
                continue
            if hasattr(value, "name") and not isinstance(value, str):  # a FieldFile compares by name
                value = value.name or ""
            if value != stored and not (field.name in self.ONCE and not stored):
                refused.append(field.name)
        return refused


def _draft_q(prefix: str | None, status_field: str = "status") -> Q:
    return ~Q(**{f"{prefix or ''}{status_field}": "draft"})


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

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="exceptions")
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
        return _draft_q(prefix)

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

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
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
        return _draft_q("invoice__" if prefix is None else prefix)


class CreditNote(DocumentGuard):
    ONCE = frozenset({"pdf", "pdf_sha256"})

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ISSUED = "issued", "Issued"

    TRANSITIONS = {"requested": ("approved", "rejected"), "approved": ("issued",), "rejected": (), "issued": ()}

    class Reason(models.TextChoices):
        BILLING_ERROR = "billing_error", "Billing error"
        PRICING_DISPUTE = "pricing_dispute", "Pricing dispute"
        SERVICE_CREDIT = "service_credit", "Service credit"
        GOODWILL = "goodwill", "Goodwill"
        CANCELLATION = "cancellation", "Cancellation"
        DUPLICATE = "duplicate", "Duplicate"

    legal_entity = models.ForeignKey("ledger.LegalEntity", on_delete=models.PROTECT, related_name="credit_notes")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    explanation = models.TextField()
    currency = models.CharField(max_length=3)
    net_total = models.DecimalField(**MONEY, default=0)
    tax_total = models.DecimalField(**MONEY, default=0)
    gross_total = models.DecimalField(**MONEY, default=0)
    issue_date = models.DateField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)
    journal_entry = models.OneToOneField("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    pdf = models.FileField(upload_to="credit_notes/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("request_creditnote", "Can request credit notes"),
            ("approve_creditnote", "Can approve credit notes within a limit"),
            ("issue_creditnote", "Can issue approved credit notes"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "number"], condition=~Q(number=""),
                                    name="creditnote_number_unique_per_entity"),
            models.CheckConstraint(condition=Q(gross_total=Round(F("net_total") + F("tax_total"), STORAGE_PLACES)),
                                   name="creditnote_gross_is_net_plus_tax"),
            models.CheckConstraint(condition=Q(gross_total__gte=0), name="creditnote_amount_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.number or f"Credit note request #{self.pk}"

    @classmethod
    def frozen_q(cls, prefix: str | None = None) -> Q:
        return Q(**{f"{prefix or ''}status": "issued"})


class CreditNoteLine(DocumentGuard):
    PARENT = "credit_note"

    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    invoice_line = models.ForeignKey(InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=255)
    quantity = models.DecimalField(**QTY, default=1)
    net_amount = models.DecimalField(**MONEY)
    tax_code = models.ForeignKey(TaxCode, on_delete=models.PROTECT, related_name="+")
    tax_rate = models.DecimalField(**RATE, help_text="The original invoice line's rate")
    tax_amount = models.DecimalField(**MONEY)
    revenue_account_code = models.CharField(max_length=20, default="4000")

    class Meta:
        ordering = ["credit_note", "position"]
        constraints = [models.UniqueConstraint(fields=["credit_note", "position"], name="creditnoteline_position_unique")]

    def __str__(self) -> str:
        return self.description

    @classmethod
    def frozen_q(cls, prefix: str | None = None) -> Q:
        return Q(**{f"{'credit_note__' if prefix is None else prefix}status": "issued"})


class Delivery(DocumentGuard):
    """One attempt to deliver an issued document to the customer: the delivery log, written once
    (every row is frozen; a retry writes its own row)."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        PORTAL = "portal", "Procurement portal"
        POST = "post", "Post"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    credit_note = models.ForeignKey(CreditNote, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipients = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    detail = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(condition=Q(invoice__isnull=False) | Q(credit_note__isnull=False),
                                   name="delivery_has_document"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.status}"

    @classmethod
    def frozen_q(cls, prefix: str | None = None) -> Q:
        return Q(pk__isnull=False) if not prefix else Q(**{f"{prefix}pk__isnull": False})


class PortalSubmission(models.Model):
    """The upload of an issued invoice (or credit note) to the customer's procurement portal."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending upload"
        UPLOADED = "uploaded", "Uploaded"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        RESUBMITTED = "resubmitted", "Resubmitted"

    TRANSITIONS = {
        "pending": ("uploaded",),
        "uploaded": ("accepted", "rejected"),
        "rejected": ("resubmitted",),
        "resubmitted": ("accepted", "rejected"),
        "accepted": (),
    }

    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="portal_submissions")
    credit_note = models.ForeignKey(CreditNote, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="portal_submissions")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    portal = models.CharField(max_length=10)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    due_date = models.DateField()
    portal_reference = models.CharField(max_length=120, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, credit_note__isnull=True) | Q(invoice__isnull=True, credit_note__isnull=False),
                name="portalsubmission_one_document"),
            models.UniqueConstraint(fields=["invoice"], condition=Q(invoice__isnull=False), name="portalsubmission_once_per_invoice"),
            models.UniqueConstraint(fields=["credit_note"], condition=Q(credit_note__isnull=False),
                                    name="portalsubmission_once_per_credit_note"),
        ]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.portal} {self.status}"

    def get_portal_display(self) -> str:
        """The portal's name (SAP Ariba, Coupa...) rather than its code."""
        from customers.models import Customer

        return str(dict(Customer.Portal.choices).get(self.portal, self.portal))
