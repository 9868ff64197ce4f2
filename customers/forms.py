"""Forms validate shape; the services validate meaning (and the model's rules run in both)."""

from __future__ import annotations

import copy

from django import forms

from otc.errors import InvalidAmount
from otc.forms import BootstrapMixin
from otc.models import User
from otc.money import parse_amount, quantize, validate_currency

from .models import Contact, Customer
from .services import CONTACT_FIELDS, EDITABLE_FIELDS
from .services.fields import contact_errors, customer_errors

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class CustomerForm(BootstrapMixin, forms.ModelForm):
    """Every editable field of the customer file. The credit limit is typed text parsed strictly
    in the customer's currency: '1,2,3' or '12.345' in EUR are refused, never guessed."""

    credit_limit = forms.CharField(
        label="Credit limit", help_text="In the default currency, e.g. 50,000.00.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "text-end"}),
    )
    default_currency = forms.CharField(
        label="Default currency", max_length=3, help_text="ISO 4217 code, e.g. EUR.",
        widget=forms.TextInput(attrs={"style": "text-transform: uppercase", "maxlength": 3}),
    )

    class Meta:
        model = Customer
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "status_reason": forms.TextInput(),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sales_owner"].queryset = User.objects.filter(is_active=True, kind=User.Kind.HUMAN).order_by(
            "first_name", "last_name", "username"
        )
        parents = Customer.objects.only("id", "legal_name", "display_name", "account_number")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        if self.instance.pk and not self.is_bound:
            self.initial["credit_limit"] = str(quantize(self.instance.credit_limit, self.instance.default_currency))
        self._style()

    def clean_default_currency(self) -> str:
        try:
            return validate_currency(self.cleaned_data["default_currency"].strip())
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message)

    def clean(self) -> dict:
        cleaned = super().clean()
        text, currency = cleaned.get("credit_limit"), cleaned.get("default_currency")
        if text is not None and currency:
            try:
                cleaned["credit_limit"] = parse_amount(text, currency)
            except InvalidAmount as exc:
                self.add_error("credit_limit", exc.message)
        elif text is not None:
            cleaned.pop("credit_limit", None)
        return cleaned

    def _post_clean(self) -> None:
        """Show every problem at once: run the service's own validation (the model's rules) on
        an unsaved copy. The service validates again when it writes."""
        candidate = copy.copy(self.instance) if self.instance.pk else Customer(account_number="(new)")
        data = {k: v for k, v in self.service_data().items() if k not in self.errors}
        for field, messages in customer_errors(candidate, data).items():
            if field not in self.errors:
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS if name in self.cleaned_data}


class ContactForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = list(CONTACT_FIELDS)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._style()

    def _post_clean(self) -> None:
        candidate = copy.copy(self.instance) if self.instance.pk else Contact()
        data = {k: v for k, v in self.service_data().items() if k not in self.errors}
        for field, messages in contact_errors(candidate, data).items():
            if field not in self.errors:
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in CONTACT_FIELDS if name in self.cleaned_data}


class CustomerImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        help_text="An .xlsx or .csv file; the first row names the columns (account_number plus the fields to change).",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._style()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError("Upload an .xlsx or .csv file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB: split it.")
        return upload
