"""Shapes only: input serializers check types, output serializers render. The services decide
what is valid (the model's rules) and write."""

from __future__ import annotations

from rest_framework import serializers

from otc.api import refs
from otc.api.fields import AmountField, PersonField
from otc.api.serializers import InputSerializer
from otc.money import quantize

from ..models import Contact, Customer
from ..peppol import EAS_CHOICES


class ContactInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=150)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    role = serializers.CharField(max_length=80, required=False, allow_blank=True)
    is_billing_contact = serializers.BooleanField(required=False)


class CustomerInputSerializer(InputSerializer):
    """Create (POST) and full update (PUT) need the mandatory fields; PATCH any subset. Fields
    left out keep their current value. `parent` and `sales_owner` are ids. `contacts` (create and
    upsert) are matched to existing contacts by e-mail, else name; contacts not listed stay."""

    legal_name = serializers.CharField(max_length=200)
    display_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    parent = serializers.IntegerField(required=False, allow_null=True)
    country = serializers.CharField(max_length=2)
    address_line1 = serializers.CharField(max_length=200)
    address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=40, required=False, allow_blank=True)
    tax_exempt = serializers.BooleanField(required=False)
    tax_exemption_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    default_currency = serializers.CharField(max_length=3, required=False)
    payment_terms_days = serializers.IntegerField(required=False, min_value=0)
    credit_limit = AmountField(required=False)
    risk_rating = serializers.ChoiceField(choices=Customer.RiskRating.choices, required=False)
    status = serializers.ChoiceField(choices=Customer.Status.choices, required=False)
    status_reason = serializers.CharField(max_length=255, required=False, allow_blank=True)
    sales_owner = PersonField(required=False, allow_null=True, help_text="The e-mail of an active sales rep "
                              "(see /api/v1/sales-reps/); null for none")
    sales_owner_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
                                              help_text="Or the sales rep's user id")
    sales_owner_email = serializers.EmailField(required=False)
    invoice_delivery = serializers.ChoiceField(choices=Customer.Delivery.choices, required=False)
    procurement_portal = serializers.ChoiceField(choices=Customer.Portal.choices, required=False)
    portal_supplier_id = serializers.CharField(max_length=60, required=False, allow_blank=True)
    portal_buyer_id = serializers.CharField(max_length=60, required=False, allow_blank=True)
    peppol_scheme = serializers.CharField(max_length=4, required=False, allow_blank=True)
    peppol_id = serializers.CharField(max_length=50, required=False, allow_blank=True)
    po_required = serializers.BooleanField(required=False)
    external_crm_id = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    deprecated_fields = {"sales_owner_email": "sales_owner"}

    contacts = ContactInputSerializer(many=True, required=False, max_length=100,
                                      help_text="At most 100 per request; matched by e-mail, else name")


class CustomerUpsertSerializer(CustomerInputSerializer):
    """Upsert keyed by the CRM id: the mandatory fields are needed only when the customer is new
    (the service says which are missing)."""

    external_crm_id = serializers.CharField(max_length=64)
    legal_name = serializers.CharField(max_length=200, required=False)
    country = serializers.CharField(max_length=2, required=False)
    address_line1 = serializers.CharField(max_length=200, required=False)
    city = serializers.CharField(max_length=100, required=False)


class ContactOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "email", "phone", "role", "is_billing_contact"]
        read_only_fields = fields


class CustomerOutputSerializer(serializers.ModelSerializer):
    deprecated_fields = {"sales_owner_username": "sales_owner"}

    parent_account_number = serializers.CharField(source="parent.account_number", default=None, read_only=True)
    sales_owner = refs.person_email("sales_owner")
    sales_owner_id = refs.person_id("sales_owner")
    sales_owner_username = serializers.CharField(source="sales_owner.username", default=None, read_only=True)
    credit_limit = serializers.SerializerMethodField()
    # Read-only fields lose the model's blank=True (DRF): say that "" (no Peppol id) is an answer.
    peppol_scheme = serializers.ChoiceField(choices=EAS_CHOICES, allow_blank=True, read_only=True)
    contacts = ContactOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id", "account_number", "legal_name", "display_name", "parent", "parent_account_number", "country",
            "address_line1", "address_line2", "city", "region", "postal_code", "tax_id", "tax_exempt",
            "tax_exemption_reference", "default_currency", "payment_terms_days", "credit_limit", "risk_rating",
            "status", "status_reason", "sales_owner", "sales_owner_id", "sales_owner_username", "invoice_delivery",
            "procurement_portal", "portal_supplier_id", "portal_buyer_id", "peppol_scheme", "peppol_id",
            "po_required", "external_crm_id", "notes", "contacts", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_credit_limit(self, customer: Customer) -> str:
        """Quantised to the currency's minor unit, as a string."""
        return str(quantize(customer.credit_limit, customer.default_currency))
