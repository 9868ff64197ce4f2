"""Forms of the worklist, the customer's collections page and the manager's view: shape only;
the services decide meaning."""

from __future__ import annotations

from django import forms

from customers.models import Customer
from ledger.models import LegalEntity
from otc.forms import bootstrap_style
from otc.models import User

from .models import ActivityKind, ActivityOutcome, CustomerSize, DisputeReason

_DATE = forms.DateInput(attrs={"type": "date"})


def collectors() -> forms.QuerySet:
    return (User.objects.filter(is_active=True, groups__permissions__codename="view_worklist",
                                groups__name="Collector").distinct().order_by("first_name", "username"))


class _Styled(forms.Form):
    small = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.style()

    def style(self) -> None:
        bootstrap_style(self, small=self.small)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs["class"] = "form-check-input"


class WorklistFilterForm(_Styled):
    small = True
    collector = forms.CharField(required=False)
    legal_entity = forms.ModelChoiceField(LegalEntity.objects.order_by("code"), required=False, empty_label="All entities")
    risk = forms.ChoiceField(choices=[("", "Any risk"), *Customer.RiskRating.choices], required=False)
    only = forms.ChoiceField(required=False, choices=[
        ("", "Everything to do"), ("broken", "Broken promises"), ("promises_due", "Promises due"),
        ("disputes", "Open disputes"), ("next_action", "Next action due")])
    q = forms.CharField(required=False, label="Search")
    min_score = forms.DecimalField(required=False, min_value=0, max_digits=8, decimal_places=2)

    def clean_collector(self) -> str:
        value = (self.cleaned_data.get("collector") or "").strip()
        if value in ("", "all", "none", "me") or value.isdigit():
            return value
        raise forms.ValidationError("Choose a collector.")


class ReassignForm(_Styled):
    customers = forms.ModelMultipleChoiceField(Customer.objects.all())
    collector = forms.ModelChoiceField(User.objects.filter(is_active=True))
    note = forms.CharField(required=False, max_length=255)


class ActivityForm(_Styled):
    kind = forms.ChoiceField(choices=[c for c in ActivityKind.choices if c[0] != ActivityKind.STATEMENT])
    outcome = forms.ChoiceField(choices=[c for c in ActivityOutcome.choices if c[0] != ActivityOutcome.SENT])
    contact = forms.IntegerField(required=False, widget=forms.Select)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    next_action = forms.CharField(required=False, max_length=200)
    next_action_date = forms.DateField(required=False, widget=_DATE)
    promise_amount = forms.DecimalField(required=False, max_digits=20, decimal_places=4, label="Promised amount")
    promise_date = forms.DateField(required=False, widget=_DATE, label="Promised date")
    promise_invoices = forms.TypedMultipleChoiceField(required=False, coerce=int, label="Promised invoices",
                                                      widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, customer: Customer, invoices: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].widget.choices = [("", "—")] + [(c.pk, f"{c.name} ({c.role or c.email})")
                                                               for c in customer.contacts.all()]
        self.fields["promise_invoices"].choices = [(i.pk, i.number) for i in invoices]
        self.style()

    def clean(self):
        data = super().clean()
        if data.get("promise_date") or data.get("promise_invoices"):
            if not (data.get("promise_date") and data.get("promise_invoices")):
                raise forms.ValidationError("A promise needs its date and the invoices it pays.")
            if data.get("outcome") != ActivityOutcome.PROMISED:
                data["outcome"] = ActivityOutcome.PROMISED
        return data


class DisputeForm(_Styled):
    invoice = forms.TypedChoiceField(coerce=int)
    reason = forms.ChoiceField(choices=DisputeReason.choices)
    amount = forms.DecimalField(required=False, max_digits=20, decimal_places=4,
                                help_text="Gross; empty: the whole open balance")
    due_date = forms.DateField(required=False, widget=_DATE)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, invoices: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [(i.pk, i.number) for i in invoices]
        self.style()


class PlanForm(_Styled):
    invoices = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple)
    first_date = forms.DateField(widget=_DATE)
    count = forms.IntegerField(min_value=2, max_value=24, initial=3, label="Instalments")
    every_days = forms.IntegerField(min_value=7, max_value=92, initial=30, label="Every (days)")
    total = forms.DecimalField(max_digits=20, decimal_places=4, required=False, help_text="Empty: all collectible")

    def __init__(self, *args, invoices: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invoices"].choices = [(i.pk, i.number) for i in invoices]
        self.style()


class StatementForm(_Styled):
    legal_entity = forms.IntegerField()
    currency = forms.CharField(max_length=3)


class RuleForm(_Styled):
    small = True

    priority = forms.IntegerField(min_value=0, initial=100)
    legal_entity = forms.ModelChoiceField(LegalEntity.objects.order_by("code"), required=False, empty_label="Any")
    country = forms.CharField(required=False, max_length=2)
    size = forms.ChoiceField(choices=[("", "Any"), *CustomerSize.choices], required=False)
    collector = forms.ModelChoiceField(User.objects.filter(is_active=True))
