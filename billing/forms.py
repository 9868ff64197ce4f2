"""Billing: forms validate shape; services validate meaning.

Amounts, quantities and percentages are typed text parsed strictly by `otc.money.parse_amount`
(never float); the cleaned values are Decimal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q

from contracts.models import Product
from customers.models import Customer
from customers.selectors import customers_visible_to
from ledger.models import LegalEntity
from otc import dates
from otc.dates import validate_business_date
from otc.errors import InvalidAmount
from otc.forms import bootstrap_style, parse_decimal
from otc.models import User
from otc.money import validate_currency

from .models import CreditNote, Invoice, InvoiceLine, PortalSubmission

HUNDRED = Decimal(100)
CUSTOMER_OPTIONS = 50  # customers rendered in the manual invoice's select; the search narrows them
DATE = {"widget": forms.DateInput(attrs={"type": "date"})}


def _small(form: forms.BaseForm) -> None:
    """Bootstrap classes, small size (filters and table rows)."""
    bootstrap_style(form, small=True)


def _decimal_field(label: str, *, required: bool = False, initial: str = "", help_text: str = "") -> forms.CharField:
    return forms.CharField(label=label, required=required, initial=initial, help_text=help_text,
                           widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "text-end"}))


def plain(value: Decimal | None) -> str:
    """A Decimal as typed text without trailing zeros ('1', '33.335')."""
    return "" if value is None else f"{value.normalize():f}"


# --- invoices -------------------------------------------------------------------------------------

class InvoiceFilterForm(forms.Form):
    legal_entity = forms.ModelChoiceField(LegalEntity.objects.order_by("code"), required=False, label="Entity")
    q = forms.CharField(required=False, label="Customer or number")
    status = forms.ChoiceField(choices=[("", "Any status"), *Invoice.Status.choices], required=False)
    period = forms.DateField(validators=[validate_business_date], required=False, label="Billing period", input_formats=["%Y-%m"],
                             widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
    overdue = forms.BooleanField(required=False)
    on_hold = forms.BooleanField(required=False, label="On hold")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _small(self)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"f-{name}")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=255, required=True)


class RunStartForm(forms.Form):
    period = forms.DateField(validators=[validate_business_date], input_formats=["%Y-%m"], widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))

    @staticmethod
    def default_period() -> dt.date:
        return dates.today().replace(day=1)


class ManualInvoiceForm(forms.Form):
    """The header of a manual (one-off) invoice. Editing a draft keeps its entity, customer and
    currency (the service changes only the header fields below and the lines)."""

    legal_entity = forms.ModelChoiceField(queryset=LegalEntity.objects.none(), label="Legal entity")
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), label="Customer")
    currency = forms.CharField(max_length=3, required=False, help_text="Empty: the customer's currency.",
                               widget=forms.TextInput(attrs={"style": "text-transform: uppercase", "maxlength": 3}))
    po_number = forms.CharField(label="PO number", max_length=60, required=False)
    service_start = forms.DateField(validators=[validate_business_date], required=False, label="Service from", **DATE)
    service_end = forms.DateField(validators=[validate_business_date], required=False, label="Service to", **DATE)
    payment_terms_days = forms.IntegerField(label="Payment terms (days)", min_value=0, max_value=365, required=False,
                                            help_text="Empty: the customer's terms.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="Printed on the invoice.")

    def __init__(self, *args: Any, user: User, invoice: Invoice | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        self.fields["legal_entity"].queryset = LegalEntity.objects.order_by("code")
        visible = customers_visible_to(user).only("id", "legal_name", "display_name", "account_number",
                                                  "default_currency")
        self.fields["customer"].queryset = visible.order_by("legal_name")
        if invoice is not None:
            for name in ("legal_entity", "customer", "currency"):
                self.fields[name].disabled = True
                self.fields[name].required = False
            self.fields["payment_terms_days"].required = True
            self.fields["payment_terms_days"].help_text = ""
        bootstrap_style(self)

    def limit_customer_options(self, search: str = "") -> None:
        """Render at most CUSTOMER_OPTIONS customers (matching `search`) plus the chosen one;
        validation still accepts any visible customer."""
        field = self.fields["customer"]
        rows = field.queryset
        if search:
            rows = rows.filter(Q(legal_name__icontains=search) | Q(display_name__icontains=search)
                               | Q(account_number__icontains=search))
        shown = list(rows.order_by("legal_name")[:CUSTOMER_OPTIONS])
        chosen = self["customer"].value()
        if chosen and str(chosen).isdigit() and all(str(c.pk) != str(chosen) for c in shown):
            shown[:0] = list(field.queryset.filter(pk=chosen))
        field.widget.choices = [("", "---------"), *((c.pk, customer_label(c)) for c in shown)]

    def clean_currency(self) -> str:
        text = (self.cleaned_data.get("currency") or "").strip()
        if not text or self.invoice is not None:
            return text
        try:
            return validate_currency(text)
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("service_start"), cleaned.get("service_end")
        if start and end and end < start:
            self.add_error("service_end", "The service period ends before it starts.")
        return cleaned

    def service_data(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        data = {name: cleaned.get(name) for name in ("service_start", "service_end", "payment_terms_days")}
        data.update(po_number=(cleaned.get("po_number") or "").strip(), notes=(cleaned.get("notes") or "").strip())
        if self.invoice is None:
            data.update(legal_entity_id=cleaned["legal_entity"].pk, customer_id=cleaned["customer"].pk,
                        currency=cleaned.get("currency") or None)
        return data

    @staticmethod
    def initial_from(invoice: Invoice) -> dict[str, Any]:
        return {"legal_entity": invoice.legal_entity_id, "customer": invoice.customer_id, "currency": invoice.currency,
                **{name: getattr(invoice, name) for name in
                   ("po_number", "service_start", "service_end", "payment_terms_days", "notes")}}


def customer_label(customer: Customer) -> str:
    return f"{customer.legal_name} · {customer.account_number} · {customer.default_currency}"


class InvoiceLineForm(forms.Form):
    """One line of a manual invoice: a product, or a tax category with a description."""

    product = forms.ModelChoiceField(queryset=Product.objects.none(), required=False, empty_label="(no product)")
    tax_category = forms.ChoiceField(choices=[("", "(the product's)"), *Product.TaxCategory.choices], required=False,
                                     label="Tax category")
    description = forms.CharField(max_length=255, required=False)
    quantity = _decimal_field("Quantity", initial="1")
    unit_price = _decimal_field("Unit price")
    discount_percent = _decimal_field("Discount %", initial="0")
    service_start = forms.DateField(validators=[validate_business_date], required=False, label="From", **DATE)
    service_end = forms.DateField(validators=[validate_business_date], required=False, label="To", **DATE)

    def __init__(self, *args: Any, products=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products if products is not None else Product.objects.filter(is_active=True)
        _small(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("DELETE"):
            return cleaned
        if not cleaned.get("product") and not cleaned.get("tax_category"):
            self.add_error("tax_category", "Choose a product or a tax category.")
        if not cleaned.get("product") and not (cleaned.get("description") or "").strip():
            self.add_error("description", "Describe what is charged.")
        if "quantity" in cleaned:
            cleaned["quantity"] = parse_decimal(self, "quantity", positive=True, default=Decimal(1))
        if "unit_price" in cleaned:
            if not (cleaned.get("unit_price") or "").strip():
                self.add_error("unit_price", "Enter the unit price.")
            else:
                cleaned["unit_price"] = parse_decimal(self, "unit_price")
        if "discount_percent" in cleaned:
            cleaned["discount_percent"] = parse_decimal(self, "discount_percent", percent=True, default=Decimal(0))
        start, end = cleaned.get("service_start"), cleaned.get("service_end")
        if start and end and end < start:
            self.add_error("service_end", "The line ends before it starts.")
        return cleaned

    def service_data(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        row: dict[str, Any] = {name: cleaned.get(name) for name in
                               ("description", "quantity", "unit_price", "discount_percent", "service_start",
                                "service_end")}
        row["description"] = (row["description"] or "").strip()
        if cleaned.get("product"):
            row["product_id"] = cleaned["product"].pk
        if cleaned.get("tax_category"):
            row["tax_category"] = cleaned["tax_category"]
        return row


class BaseInvoiceLineFormSet(forms.BaseFormSet):
    def kept_forms(self) -> list[InvoiceLineForm]:
        """The lines sent to the service, in order (their 1-based index is the service's position)."""
        return [form for form in self.forms if form.has_changed() and not self._should_delete_form(form)]

    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.kept_forms():
            raise forms.ValidationError("Add at least one line.")

    def service_data(self) -> list[dict[str, Any]]:
        return [form.service_data() for form in self.kept_forms()]


def invoice_line_formset(data=None, *, lines: list[InvoiceLine] | None = None) -> BaseInvoiceLineFormSet:
    """The lines of a manual invoice: bound to POST data, or showing a draft's lines."""
    initial = None
    if lines:
        initial = [{
            "product": line.product_id, "tax_category": "" if line.product_id else line.tax_code.category,
            "description": line.description, "quantity": plain(line.quantity), "unit_price": plain(line.unit_price),
            "discount_percent": plain(line.discount_percent), "service_start": line.service_start,
            "service_end": line.service_end,
        } for line in lines]
    formset_class = forms.formset_factory(InvoiceLineForm, formset=BaseInvoiceLineFormSet, extra=0 if lines else 1,
                                          can_delete=True, max_num=200, validate_max=True)
    products = Product.objects.filter(is_active=True).order_by("sku")
    return formset_class(data, prefix="lines", initial=initial, form_kwargs={"products": products})


# --- credit notes ---------------------------------------------------------------------------------

class CreditNoteRequestForm(forms.Form):
    """What to credit on an invoice: all of it, some lines (a quantity or a net amount each) or a
    net amount spread pro rata; the reason code and an explanation. One `qty_<line id>` and one
    `net_<line id>` field per invoice line."""

    SCOPES = [("whole", "The whole invoice (what remains uncredited)"), ("lines", "Chosen lines"),
              ("amount", "A net amount, spread over the lines")]

    scope = forms.ChoiceField(choices=SCOPES, initial="whole", widget=forms.RadioSelect, label="Credit")
    amount = _decimal_field("Net amount", help_text="Tax is added at each line's rate.")
    reason = forms.ChoiceField(choices=[("", "---------"), *CreditNote.Reason.choices], label="Reason code")
    explanation = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="Why the customer is credited; the approver reads this.")

    def __init__(self, *args: Any, invoice: Invoice, lines: list[InvoiceLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invoice, self.lines = invoice, lines
        for line in lines:
            self.fields[f"qty_{line.pk}"] = _decimal_field(f"Line {line.position} quantity")
            self.fields[f"net_{line.pk}"] = _decimal_field(f"Line {line.position} net amount")
        bootstrap_style(self)
        self.fields["scope"].widget.attrs["class"] = "form-check-input"
        for line in lines:
            for name in (f"qty_{line.pk}", f"net_{line.pk}"):
                self.fields[name].widget.attrs["class"] += " form-control-sm"

    def line_rows(self) -> list[tuple[InvoiceLine, forms.BoundField, forms.BoundField]]:
        return [(line, self[f"qty_{line.pk}"], self[f"net_{line.pk}"]) for line in self.lines]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        scope, currency = cleaned.get("scope"), self.invoice.currency
        if scope == "amount":
            if not (cleaned.get("amount") or "").strip():
                self.add_error("amount", "Enter the net amount to credit.")
            else:
                cleaned["amount"] = parse_decimal(self, "amount", currency=currency, positive=True)
        chosen = []
        for line in self.lines if scope == "lines" else []:
            qty_name, net_name = f"qty_{line.pk}", f"net_{line.pk}"
            quantity = parse_decimal(self, qty_name, positive=True)
            net = parse_decimal(self, net_name, currency=currency, positive=True)
            if quantity is not None and net is not None:
                self.add_error(net_name, "Give a quantity or a net amount, not both.")
            elif quantity is not None:
                chosen.append({"invoice_line_id": line.pk, "quantity": quantity})
            elif net is not None:
                chosen.append({"invoice_line_id": line.pk, "net_amount": net})
        if scope == "lines" and not chosen and not self.errors:
            self.add_error(None, "Give a quantity or a net amount on at least one line.")
        cleaned["chosen_lines"] = chosen
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        kwargs: dict[str, Any] = {"reason": cleaned["reason"], "explanation": cleaned["explanation"]}
        if cleaned["scope"] == "amount":
            kwargs["amount"] = cleaned["amount"]
        elif cleaned["scope"] == "lines":
            kwargs["lines"] = cleaned["chosen_lines"]
        return kwargs


class CreditNoteFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *CreditNote.Status.choices], required=False)
    legal_entity = forms.ModelChoiceField(LegalEntity.objects.order_by("code"), required=False, label="Entity",
                                          empty_label="Any entity")
    reason = forms.ChoiceField(choices=[("", "Any reason"), *CreditNote.Reason.choices], required=False)
    q = forms.CharField(required=False, label="Customer or number")
    awaiting_me = forms.BooleanField(required=False, label="Awaiting my approval")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _small(self)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"f-{name}")


class DecisionNoteForm(forms.Form):
    note = forms.CharField(max_length=5000, required=False)


# --- portal uploads -------------------------------------------------------------------------------

class PortalFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Not yet accepted"), *PortalSubmission.Status.choices], required=False)
    portal = forms.ChoiceField(choices=[("", "Any portal"), *((v, label) for v, label in Customer.Portal.choices
                                                              if v != Customer.Portal.NONE)], required=False)
    q = forms.CharField(required=False, label="Customer")
    overdue = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _small(self)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"f-{name}")


class PortalReferenceForm(forms.Form):
    portal_reference = forms.CharField(max_length=120)
