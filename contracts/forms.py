"""Contracts: forms validate shape; services validate meaning.

Amounts, quantities and percentages are typed text parsed strictly by `otc.money.parse_amount`
('1,2,3' or three decimals in EUR are refused, never guessed); the result is Decimal, never float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from customers.models import Customer
from customers.selectors import customers_visible_to
from ledger.models import LegalEntity
from otc.actions import place_field_messages
from otc.dates import validate_business_date
from otc.errors import InvalidAmount
from otc.forms import BootstrapMixin, parse_decimal
from otc.models import User
from otc.money import validate_currency

from .models import Contract, ContractLine, ContractVersion, Product

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
HUNDRED = Decimal(100)

LINE_FIELDS = (
    "product_id", "kind", "description", "quantity", "unit_price", "discount_percent", "minimum_commitment",
    "milestone_date", "start_date", "end_date",
)


def _decimal_field(label: str, help_text: str = "", required: bool = False, initial: str = "") -> forms.CharField:
    return forms.CharField(label=label, required=required, help_text=help_text, initial=initial,
                           widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "text-end"}))


def _valid_currency(text: str | None) -> str | None:
    try:
        return validate_currency((text or "").strip())
    except InvalidAmount:
        return None


class ContractForm(BootstrapMixin, forms.Form):
    """The contract header: who, which entity, the financial terms, the signed PDF."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), label="Customer")
    legal_entity = forms.ModelChoiceField(queryset=LegalEntity.objects.none(), label="Legal entity")
    title = forms.CharField(max_length=200)
    crm_opportunity_id = forms.CharField(label="CRM opportunity id", max_length=64, required=False)
    currency = forms.CharField(max_length=3, help_text="ISO 4217 code, e.g. EUR.",
                               widget=forms.TextInput(attrs={"style": "text-transform: uppercase", "maxlength": 3}))
    start_date = forms.DateField(validators=[validate_business_date], widget=forms.DateInput(attrs={"type": "date"}))
    effective_date = forms.DateField(validators=[validate_business_date], label="Amendment effective from", widget=forms.DateInput(attrs={"type": "date"}),
                                     help_text="From this date the amended terms replace the version in force.")
    end_date = forms.DateField(validators=[validate_business_date], required=False, help_text="Empty: evergreen.",
                               widget=forms.DateInput(attrs={"type": "date"}))
    billing_frequency = forms.ChoiceField(choices=ContractVersion.Frequency.choices,
                                          initial=ContractVersion.Frequency.MONTHLY)
    billing_timing = forms.ChoiceField(choices=ContractVersion.Timing.choices, initial=ContractVersion.Timing.ADVANCE)
    payment_terms_days = forms.IntegerField(label="Payment terms (days)", min_value=0, max_value=365, required=False,
                                            help_text="Empty: the customer's terms.")
    discount_percent = _decimal_field("Contract discount %", "Applied after line discounts.", initial="0")
    prepayment_percent = _decimal_field("Prepayment %", initial="0")
    late_fee_percent = _decimal_field("Late fee % per month", initial="0")
    free_periods = forms.IntegerField(min_value=0, max_value=120, initial=0,
                                      help_text="Whole billing periods at zero from the start.")
    po_number = forms.CharField(label="PO number", max_length=60, required=False)
    auto_renew = forms.BooleanField(required=False)
    renewal_notice_days = forms.IntegerField(label="Renewal notice (days)", min_value=0, max_value=3650, initial=0)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    signed_document = forms.FileField(label="Signed contract (PDF)", required=False,
                                      widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}))

    def __init__(self, *args: Any, user: User, contract: Contract | None = None, amendment: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contract = contract
        self.amendment = amendment
        if not amendment:
            del self.fields["effective_date"]
        self.fields["customer"].queryset = customers_visible_to(user).only(
            "id", "legal_name", "display_name", "account_number").order_by("legal_name")
        self.fields["legal_entity"].queryset = LegalEntity.objects.order_by("code")
        if contract is not None:
            # Who and which entity are the contract's identity: an amendment keeps them.
            for name in ("customer", "legal_entity"):
                self.fields[name].disabled = True
                self.fields[name].required = False
        self._style()

    @classmethod
    def initial_from(cls, version: ContractVersion) -> dict[str, Any]:
        contract = version.contract
        initial: dict[str, Any] = {
            "customer": contract.customer_id, "legal_entity": contract.legal_entity_id, "title": contract.title,
            "crm_opportunity_id": contract.crm_opportunity_id or "",
        }
        for name in ("currency", "start_date", "effective_date", "end_date", "billing_frequency", "billing_timing",
                     "payment_terms_days", "free_periods", "po_number", "auto_renew", "renewal_notice_days", "notes",
                     "signed_document"):
            initial[name] = getattr(version, name)
        for name in ("discount_percent", "prepayment_percent", "late_fee_percent"):
            initial[name] = _plain(getattr(version, name))
        return initial

    def clean_currency(self) -> str:
        try:
            return validate_currency(self.cleaned_data["currency"].strip())
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message)

    def clean_signed_document(self):
        upload = self.cleaned_data.get("signed_document")
        if upload and hasattr(upload, "size"):
            if not upload.name.lower().endswith(".pdf"):
                raise forms.ValidationError("Upload the signed contract as a PDF.")
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError("The PDF is larger than 10 MB.")
            if hasattr(upload, "read"):
                head = upload.read(5)
                upload.seek(0)
                if head != b"%PDF-":
                    raise forms.ValidationError("This file is not a PDF.")
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in ("discount_percent", "prepayment_percent", "late_fee_percent"):
            if name in cleaned:
                cleaned[name] = parse_decimal(self, name, percent=True, default=Decimal(0))
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """What contract_create / contract_version_update take as `data` (the signed PDF is
        attached separately: see `signed_upload`)."""
        cleaned = self.cleaned_data
        data: dict[str, Any] = {}
        if self.contract is None:
            data["customer_id"] = cleaned["customer"].pk
            data["legal_entity_id"] = cleaned["legal_entity"].pk
        for name in ("title", "currency", "start_date", "end_date", "billing_frequency", "billing_timing",
                     "payment_terms_days", "discount_percent", "prepayment_percent", "late_fee_percent",
                     "free_periods", "po_number", "auto_renew", "renewal_notice_days", "notes"):
            data[name] = cleaned.get(name)
        if self.amendment:
            data["effective_date"] = cleaned.get("effective_date")
        crm_id = (cleaned.get("crm_opportunity_id") or "").strip()
        if crm_id or (self.contract is not None and self.contract.crm_opportunity_id):
            data["crm_opportunity_id"] = crm_id or None
        return data

    def signed_upload(self):
        """A newly uploaded PDF, False when "clear" was ticked, None when unchanged."""
        upload = self.cleaned_data.get("signed_document")
        if upload is False:
            return False
        return upload if upload and hasattr(upload, "size") else None


class LineForm(BootstrapMixin, forms.Form):
    """One contract line. Prices are parsed in the contract's currency (given as `currency`)."""

    line_key = forms.UUIDField(required=False, widget=forms.HiddenInput)
    product = forms.ModelChoiceField(queryset=Product.objects.none())
    kind = forms.ChoiceField(choices=ContractLine.Kind.choices, initial=ContractLine.Kind.RECURRING)
    description = forms.CharField(max_length=255, required=False)
    quantity = _decimal_field("Quantity", initial="1", required=True)
    unit_price = _decimal_field("Unit price", "Recurring: per month; usage: per unit; one-time, milestone: the fee.",
                                required=True)
    discount_percent = _decimal_field("Discount %", initial="0")
    minimum_commitment = _decimal_field("Minimum / month", "Usage lines: the minimum charge per month.", initial="0")
    milestone_date = forms.DateField(validators=[validate_business_date], required=False, widget=forms.DateInput(attrs={"type": "date"}))
    start_date = forms.DateField(validators=[validate_business_date], required=False, label="Line start", widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(validators=[validate_business_date], required=False, label="Line end", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, currency: str | None = None, products=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = _valid_currency(currency)
        self.fields["product"].queryset = products if products is not None else Product.objects.filter(is_active=True)
        self._style()
        for name in ("quantity", "unit_price", "discount_percent", "minimum_commitment"):
            self.fields[name].widget.attrs["class"] += " form-control-sm"
        for name in ("product", "kind"):
            self.fields[name].widget.attrs["class"] += " form-select-sm"
        for name in ("description", "milestone_date", "start_date", "end_date"):
            self.fields[name].widget.attrs["class"] += " form-control-sm"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("DELETE"):
            return cleaned
        if "quantity" in cleaned:
            cleaned["quantity"] = parse_decimal(self, "quantity", default=None)
        for name in ("unit_price", "minimum_commitment"):
            if name in cleaned:
                cleaned[name] = parse_decimal(self, name, currency=self.currency,
                                             default=None if name == "unit_price" else Decimal(0))
        if "discount_percent" in cleaned:
            cleaned["discount_percent"] = parse_decimal(self, "discount_percent", percent=True, default=Decimal(0))
        kind = cleaned.get("kind")
        if kind == ContractLine.Kind.MILESTONE and not cleaned.get("milestone_date"):
            self.add_error("milestone_date", "A milestone needs its date.")
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The line ends before it starts.")
        return cleaned

    def service_data(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        data: dict[str, Any] = {"product_id": cleaned["product"].pk}
        for name in LINE_FIELDS[1:]:
            data[name] = cleaned.get(name)
        if cleaned.get("line_key"):
            data["line_key"] = cleaned["line_key"]
        return data


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        kept = [f for f in self.forms if f.has_changed() and not self._should_delete_form(f)]
        if not kept:
            raise forms.ValidationError("Add at least one line.")

    def service_data(self) -> list[dict[str, Any]]:
        return [form.service_data() for form in self.forms
                if form.has_changed() and not self._should_delete_form(form) and form.cleaned_data]

    def mark_invalid(self) -> None:
        for form in self.forms:
            form.mark_invalid()


LineFormSet = forms.formset_factory(LineForm, formset=BaseLineFormSet, extra=1, can_delete=True, max_num=200,
                                    validate_max=True)


def line_formset(data=None, *, currency: str | None, lines=None, extra: int | None = None) -> BaseLineFormSet:
    """The lines formset, bound to POST data or showing a version's lines."""
    products = Product.objects.filter(is_active=True).order_by("sku")
    initial = None
    if lines is not None:
        initial = [{
            "line_key": line.line_key, "product": line.product_id, "kind": line.kind, "description": line.description,
            "quantity": _plain(line.quantity), "unit_price": _plain(line.unit_price),
            "discount_percent": _plain(line.discount_percent), "minimum_commitment": _plain(line.minimum_commitment),
            "milestone_date": line.milestone_date, "start_date": line.start_date, "end_date": line.end_date,
        } for line in lines]
    formset_class = LineFormSet
    if extra is not None:
        formset_class = forms.formset_factory(LineForm, formset=BaseLineFormSet, extra=extra, can_delete=True,
                                              max_num=200, validate_max=True)
    return formset_class(data, prefix="lines", initial=initial,
                         form_kwargs={"currency": currency, "products": products})


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("changes_requested", "Request changes"),
                                          ("rejected", "Reject")])
    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("decision") in ("rejected", "changes_requested") and not (cleaned.get("comment") or "").strip():
            self.add_error("comment", "Say why: the sales rep reads this comment.")
        return cleaned


class OverrideForm(forms.Form):
    reason = forms.CharField(min_length=10, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"min_length": "Write the reason for the override (at least 10 characters)."})


class TerminateForm(forms.Form):
    on = forms.DateField(validators=[validate_business_date], label="Termination date", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class AmendForm(forms.Form):
    effective_date = forms.DateField(validators=[validate_business_date], widget=forms.DateInput(attrs={"type": "date"}))


class CommentForm(forms.Form):
    body = forms.CharField(label="Comment", max_length=10000, widget=forms.Textarea(attrs={"rows": 2}))
    version_id = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ContractFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False,
                        widget=forms.TextInput(attrs={"placeholder": "Number, title or CRM id", "type": "search"}))
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Contract.Status.choices])
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False, empty_label="Any customer")
    legal_entity = forms.ModelChoiceField(queryset=LegalEntity.objects.none(), required=False,
                                          label="Entity", empty_label="Any entity")
    sales_owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Anyone")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers_visible_to(user).only(
            "id", "legal_name", "display_name", "account_number").order_by("legal_name")
        self.fields["legal_entity"].queryset = LegalEntity.objects.order_by("code")
        self.fields["sales_owner"].queryset = User.objects.filter(owned_contracts__isnull=False).distinct().order_by(
            "first_name", "last_name", "username")
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{css} form-control-sm" if css == "form-control" else f"{css} form-select-sm"


def apply_contract_errors(form: forms.BaseForm, fields: dict, *, formset: BaseLineFormSet | None = None) -> None:
    """Show a contract service's field errors: line errors (`lines` -> {index: {field: [messages]}}
    or `lines.<index>.<field>`) on the formset's lines, the others next to the form's fields
    (otc.actions.place_field_messages)."""
    rest = {name: messages for name, messages in (fields or {}).items()
            if formset is None or not _line_error(formset, name, messages)}
    place_field_messages(form, rest)


def _line_error(formset: BaseLineFormSet, name: str, messages: Any) -> bool:
    kept = [f for f in formset.forms if f.has_changed() and not formset._should_delete_form(f)]
    if name == "lines" and isinstance(messages, dict):
        for index, errors in messages.items():
            for field, msgs in (errors.items() if isinstance(errors, dict) else [(None, errors)]):
                _add_line_error(formset, kept, index, field, msgs)
        return True
    if name.startswith("lines.") or name.startswith("lines["):
        parts = name.replace("[", ".").replace("]", "").split(".")
        index = parts[1] if len(parts) > 1 else None
        field = parts[2] if len(parts) > 2 else None
        _add_line_error(formset, kept, index, field, messages)
        return True
    if name == "lines":
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            _add_non_form(formset, [str(message)])
        return True
    return False


def _add_line_error(formset, kept, index, field, messages) -> None:
    try:
        form = kept[int(index)]
    except (TypeError, ValueError, IndexError):
        _add_non_form(formset, [str(m) for m in _as_list(messages)])
        return
    if field and field.endswith("_id"):
        field = field[:-3]
    for message in _as_list(messages):
        form.add_error(field if field in form.fields else None, str(message))


def _add_non_form(formset, messages: list[str]) -> None:
    formset._non_form_errors = formset.error_class([*formset.non_form_errors(), *messages], error_class="nonform")


def _as_list(messages: Any) -> list:
    return list(messages) if isinstance(messages, list | tuple) else [messages]


def _plain(value: Decimal | None) -> str:
    """4-place storage shown as a person types it: 1000.0000 -> 1000, 12.5000 -> 12.5."""
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
