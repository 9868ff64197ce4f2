"""Forms for the ledger pages: they validate shape; services validate meaning."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms

from otc import dates
from otc.dates import validate_business_date
from otc.errors import InvalidAmount
from otc.money import parse_amount, validate_currency

from .models import JournalEntry, LegalEntity, Period

_DATE = forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"})
_SELECT = {"class": "form-select form-select-sm"}
_TEXT = {"class": "form-control form-control-sm"}


def _entity_field(required: bool = True) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        LegalEntity.objects.filter(is_active=True).order_by("code"), required=required,
        empty_label=None if required else "All entities", widget=forms.Select(attrs=_SELECT), label="Legal entity",
    )


class JournalFilterForm(forms.Form):
    entity = _entity_field(required=False)
    kind = forms.ChoiceField(choices=[("", "All kinds"), *JournalEntry.Kind.choices], required=False,
                             widget=forms.Select(attrs=_SELECT))
    date_from = forms.DateField(validators=[validate_business_date], required=False, widget=_DATE, label="Posted from")
    date_to = forms.DateField(validators=[validate_business_date], required=False, widget=_DATE, label="Posted to")
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(
        attrs={**_TEXT, "placeholder": "Number, memo or reference"}))


class TrialBalanceForm(forms.Form):
    entity = _entity_field()
    date_from = forms.DateField(validators=[validate_business_date], required=False, widget=_DATE, label="From (optional)")
    date_to = forms.DateField(validators=[validate_business_date], required=False, widget=_DATE, label="To")

    def clean(self):
        data = super().clean()
        data["date_to"] = data.get("date_to") or dates.today()
        if data.get("date_from") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("'From' is after 'To'.")
        return data


class EntityPeriodForm(forms.Form):
    entity = _entity_field()
    period = forms.ModelChoiceField(Period.objects.none(), widget=forms.Select(attrs=_SELECT))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].queryset = Period.objects.select_related("legal_entity").order_by(
            "legal_entity__code", "-year", "-month")
        self.fields["period"].label_from_instance = lambda p: f"{p.legal_entity.code} {p.label} ({p.status})"

    def clean(self):
        data = super().clean()
        if data.get("entity") and data.get("period") and data["period"].legal_entity_id != data["entity"].id:
            raise forms.ValidationError("That period belongs to another legal entity.")
        return data


class ArFilterForm(forms.Form):
    entity = _entity_field(required=False)
    currency = forms.CharField(required=False, max_length=3, widget=forms.TextInput(attrs={**_TEXT, "placeholder": "EUR"}))

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip()
        if not value:
            return ""
        try:
            return validate_currency(value)
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message)


class FxRateForm(forms.Form):
    date = forms.DateField(validators=[validate_business_date], widget=_DATE, initial=dates.today)
    from_currency = forms.CharField(max_length=3, widget=forms.TextInput(attrs={**_TEXT, "placeholder": "USD"}))
    to_currency = forms.CharField(max_length=3, widget=forms.TextInput(attrs={**_TEXT, "placeholder": "EUR"}))
    rate = forms.CharField(max_length=30, widget=forms.TextInput(attrs={**_TEXT, "inputmode": "decimal"}),
                           help_text="1 unit of the first currency in the second, e.g. 0.9215")

    def _currency(self, name: str) -> str:
        try:
            return validate_currency(self.cleaned_data[name].strip())
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message)

    def clean_from_currency(self) -> str:
        return self._currency("from_currency")

    def clean_to_currency(self) -> str:
        return self._currency("to_currency")

    def clean_rate(self) -> Decimal:
        try:
            rate = parse_amount(self.cleaned_data["rate"])
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message)
        if rate <= 0:
            raise forms.ValidationError("An FX rate must be positive.")
        if rate != rate.quantize(Decimal("1e-10")):
            raise forms.ValidationError("An FX rate has at most 10 decimal places.")
        return rate

    def clean_date(self) -> dt.date:
        return self.cleaned_data["date"]


class PeriodReopenForm(forms.Form):
    note = forms.CharField(label="Reason", max_length=500, widget=forms.TextInput(attrs=_TEXT))


class ManualJournalForm(forms.Form):
    """The header of a manual journal; its lines come from ManualLineFormSet."""

    entity = _entity_field()
    document_date = forms.DateField(validators=[validate_business_date], widget=_DATE, label="Date", initial=dates.today)
    currency = forms.CharField(max_length=3, widget=forms.TextInput(attrs={**_TEXT, "placeholder": "functional"}),
                               required=False, help_text="Empty: the entity's functional currency.")
    memo = forms.CharField(max_length=255, widget=forms.TextInput(attrs=_TEXT), help_text="Why this journal is posted.")
    reference = forms.CharField(max_length=60, required=False, widget=forms.TextInput(attrs=_TEXT))

    def clean_currency(self) -> str:
        value = (self.cleaned_data.get("currency") or "").strip().upper()
        if not value:
            return ""
        try:
            return validate_currency(value)
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message)


class ManualLineForm(forms.Form):
    """One line: an account of the entity (not a customer subledger account) and a debit or a
    credit, typed as text and parsed strictly."""

    account = forms.CharField(max_length=20, widget=forms.TextInput(attrs={**_TEXT, "placeholder": "code, e.g. 7900"}))
    description = forms.CharField(max_length=255, required=False, widget=forms.TextInput(attrs=_TEXT))
    debit = forms.CharField(required=False, widget=forms.TextInput(attrs={**_TEXT, "class": "form-control form-control-sm text-end"}))
    credit = forms.CharField(required=False, widget=forms.TextInput(attrs={**_TEXT, "class": "form-control form-control-sm text-end"}))

    def clean(self):
        data = super().clean()
        amounts = {}
        for side in ("debit", "credit"):
            text = (data.get(side) or "").strip()
            if text:
                try:
                    amounts[side] = parse_amount(text)
                except InvalidAmount as exc:
                    self.add_error(side, exc.message)
        if self.errors:
            return data
        if len(amounts) != 1 or next(iter(amounts.values())) <= 0:
            raise forms.ValidationError("Enter a positive debit or a positive credit, not both.")
        data["amount"] = amounts.get("debit") or -amounts["credit"]
        return data


ManualLineFormSet = forms.formset_factory(ManualLineForm, extra=4, min_num=2, validate_min=True)


def signed_lines(formset) -> list[tuple[str, Decimal, str]]:
    """(account code, signed amount, description) for each filled line of a valid formset."""
    return [
        (form.cleaned_data["account"].strip(), form.cleaned_data["amount"], form.cleaned_data.get("description", ""))
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]

