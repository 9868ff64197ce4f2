"""The customer master file: accounts, contacts, billing address, tax ids, terms, credit limit,
procurement portal. Validation of single records lives here (constraints and clean());
cross-record rules and writes live in services."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from otc.bulk import instance_from_db
from otc.countries import country_choices, country_name
from otc.money import MAX_DIGITS, STORAGE_PLACES

from .peppol import EAS_CHOICES, validate_participant_id
from .taxids import validate_tax_id


class Customer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        BLOCKED = "blocked", "Blocked"
        INACTIVE = "inactive", "Inactive"

    class RiskRating(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    class Delivery(models.TextChoices):
        EMAIL = "email", "E-mail"
        PORTAL = "portal", "Procurement portal"
        POST = "post", "Post"

    class Portal(models.TextChoices):
        NONE = "none", "None"
        ARIBA = "ariba", "SAP Ariba"
        COUPA = "coupa", "Coupa"
        TUNGSTEN = "tungsten", "Tungsten"
        JAGGAER = "jaggaer", "Jaggaer"
        OTHER = "other", "Other"

    account_number = models.CharField(max_length=20, unique=True, editable=False)
    legal_name = models.CharField(max_length=200)
    display_name = models.CharField(max_length=120, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        help_text="Parent account for corporate groups.",
    )
    country = models.CharField(max_length=2, choices=country_choices)
    address_line1 = models.CharField("address line 1", max_length=200)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField("state / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    tax_id = models.CharField("tax id", max_length=40, blank=True, help_text="VAT number, EIN, ABN...")
    tax_exempt = models.BooleanField(default=False)
    tax_exemption_reference = models.CharField(max_length=100, blank=True)
    default_currency = models.CharField(max_length=3, default="USD")
    payment_terms_days = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(365)], help_text="Net days."
    )
    credit_limit = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=STORAGE_PLACES, default=0, validators=[MinValueValidator(0)],
        help_text="In the customer's default currency.",
    )
    risk_rating = models.CharField(max_length=10, choices=RiskRating.choices, default=RiskRating.LOW)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=255, blank=True)
    sales_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_customers",
    )
    invoice_delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.EMAIL)
    procurement_portal = models.CharField(max_length=10, choices=Portal.choices, default=Portal.NONE)
    portal_supplier_id = models.CharField("our supplier id on the portal", max_length=60, blank=True)
    portal_buyer_id = models.CharField(
        "buyer's network id on the portal", max_length=60, blank=True,
        help_text="The customer's own id on the network (e.g. AN01234567890 on SAP Ariba): the cXML recipient.",
    )
    peppol_scheme = models.CharField(
        "Peppol scheme", max_length=4, blank=True, choices=EAS_CHOICES,
        help_text="The EAS code of the customer's Peppol participant id, e.g. 0088 (GLN), 0192 (Norway), 9930 (DE VAT).",
    )
    peppol_id = models.CharField(
        "Peppol participant id", max_length=50, blank=True, help_text="e.g. 5790000436101 for scheme 0088.",
    )
    po_required = models.BooleanField("PO required", default=False)
    external_crm_id = models.CharField("CRM id", max_length=64, null=True, blank=True, unique=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["legal_name", "id"]
        permissions = [
            ("view_all_customers", "Can see every customer, not only owned ones"),
            ("import_customers", "Can bulk update customers from a spreadsheet"),
            ("export_customers", "Can export customers to Excel"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="customer_credit_limit_nonnegative"),
            models.CheckConstraint(condition=Q(payment_terms_days__lte=365), name="customer_terms_max_365"),
            models.CheckConstraint(
                condition=~Q(invoice_delivery="portal") | ~Q(procurement_portal="none"),
                name="customer_portal_delivery_needs_portal",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "inactive"]) | ~Q(status_reason=""),
                name="customer_hold_block_needs_reason",
            ),
        ]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["country"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_number})"

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    @classmethod
    def from_db(cls, db, field_names, values):
        # Whole rows without Model.__init__ (otc.bulk.instance_from_db): each chunk of the month-end
        # run reads its hundreds of customers whole, in generation and again in issuing.
        return instance_from_db(cls, db, field_names, values)

    @property
    def name(self) -> str:
        return self.display_name or self.legal_name

    @property
    def country_label(self) -> str:
        return country_name(self.country)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.tax_id and self.country:
            try:
                self.tax_id = validate_tax_id(self.tax_id, self.country)
            except ValidationError as exc:
                errors["tax_id"] = exc.messages[0]
        if self.peppol_scheme or self.peppol_id:
            try:
                self.peppol_id = validate_participant_id(self.peppol_scheme, self.peppol_id)
            except ValidationError as exc:
                errors["peppol_scheme" if not self.peppol_scheme else "peppol_id"] = exc.messages[0]
        if self.invoice_delivery == self.Delivery.PORTAL and self.procurement_portal == self.Portal.NONE:
            errors["procurement_portal"] = "Choose the procurement portal that invoices are delivered to."
        if self.procurement_portal != self.Portal.NONE and not self.portal_supplier_id:
            errors["portal_supplier_id"] = "Enter our supplier id on the customer's portal."
        if self.status in (self.Status.ON_HOLD, self.Status.BLOCKED) and not self.status_reason:
            errors["status_reason"] = "Say why the customer is on hold or blocked."
        if self.tax_exempt and not self.tax_exemption_reference:
            errors["tax_exemption_reference"] = "Enter the exemption certificate or reference."
        if self.parent_id and self.pk and self.parent_id == self.pk:
            errors["parent"] = "A customer cannot be its own parent."
        if self.external_crm_id == "":
            self.external_crm_id = None
        if errors:
            raise ValidationError(errors)


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=80, blank=True, help_text="e.g. Accounts payable, CFO")
    is_billing_contact = models.BooleanField("billing contact", default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_billing_contact", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_billing_contact=False) | ~Q(email=""), name="contact_billing_needs_email"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.is_billing_contact and not self.email:
            raise ValidationError({"email": "A billing contact needs an e-mail address for invoices."})


class CustomerImport(models.Model):
    """One uploaded spreadsheet that bulk-updates customer files: previewed first (per-row changes
    and errors stored in `rows`), then applied all-or-nothing. The upload itself is kept."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        APPLIED = "applied", "Applied"

    file_name = models.CharField(max_length=255)
    content = models.BinaryField(editable=False)
    key_column = models.CharField(max_length=40)
    columns = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    rows = models.JSONField(default=list, help_text="Per-row results: changes or errors.")
    total_rows = models.PositiveIntegerField(default=0)
    changed_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.file_name}"

    @property
    def can_apply(self) -> bool:
        return self.status == self.Status.PREVIEWED and self.error_rows == 0 and self.changed_rows > 0
