"""Dunning forms: start a run, the policy with its levels, a customer kept out of dunning."""

from __future__ import annotations

from django import forms

from collections_app.models import DunningLevel, DunningPolicy
from customers.models import Customer
from ledger.models import LegalEntity


class RunStartForm(forms.Form):
    legal_entity = forms.ModelChoiceField(queryset=LegalEntity.objects.filter(dunning_policy__is_active=True),
                                          empty_label=None)
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)  # one customer only


class PolicyForm(forms.ModelForm):
    class Meta:
        model = DunningPolicy
        fields = ["is_active", "language", "sender_name", "sender_email", "preview_required",
                  "statement_max_age_days", "reference_rate", "interest_margin", "fixed_compensation",
                  "compensation_currency"]


class LevelForm(forms.Form):
    number = forms.IntegerField(min_value=1, max_value=9)
    days_after_due = forms.IntegerField(min_value=0, max_value=999)
    template = forms.ChoiceField(choices=DunningLevel.Template.choices)
    channel = forms.ChoiceField(choices=DunningLevel.Channel.choices)
    escalate = forms.BooleanField(required=False)
    charge_fee = forms.BooleanField(required=False, label="Fixed compensation")
    charge_interest = forms.BooleanField(required=False, label="Statutory interest")


LevelFormSet = forms.formset_factory(LevelForm, extra=1, can_delete=True, max_num=9)


class ExclusionForm(forms.Form):
    customer = forms.CharField(max_length=40, help_text="Account number")
    invoice_number = forms.CharField(max_length=40, required=False, help_text="Empty: the whole customer")
    reason = forms.CharField(max_length=255)
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_customer(self) -> Customer:
        value = self.cleaned_data["customer"].strip()
        found = Customer.objects.filter(account_number__iexact=value).first()
        if found is None:
            raise forms.ValidationError(f"No customer with account number {value}.")
        return found
