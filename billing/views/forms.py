"""Forms of the billing pages: they validate shape; services validate meaning."""

from __future__ import annotations

import datetime as dt

from django import forms

from ledger.models import LegalEntity
from otc import dates

from ..models import Invoice


class InvoiceFilterForm(forms.Form):
    legal_entity = forms.ModelChoiceField(LegalEntity.objects.order_by("code"), required=False, label="Entity")
    q = forms.CharField(required=False, label="Customer or number")
    status = forms.ChoiceField(choices=[("", "Any status"), *Invoice.Status.choices], required=False)
    period = forms.DateField(required=False, label="Billing period", input_formats=["%Y-%m"],
                             widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
    overdue = forms.BooleanField(required=False)
    on_hold = forms.BooleanField(required=False, label="On hold")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "form-check-input" if isinstance(field, forms.BooleanField) else (
                "form-select form-select-sm" if isinstance(field, forms.ChoiceField) else "form-control form-control-sm")
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs.setdefault("id", f"f-{name}")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=255, required=True)


class RunStartForm(forms.Form):
    period = forms.DateField(input_formats=["%Y-%m"], widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))

    @staticmethod
    def default_period() -> dt.date:
        return dates.today().replace(day=1)
