from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.models import Group

from .errors import InvalidAmount
from .models import ApprovalLimit, User
from .money import STORAGE_PLACES, parse_amount
from .roles import HUMAN_ROLES


class ApprovalLimitForm(forms.ModelForm):
    max_amount = forms.CharField(label="Maximum amount", help_text="e.g. 25,000.00")
    reason = forms.CharField(max_length=200, required=False, help_text="Recorded in the history.")

    class Meta:
        model = ApprovalLimit
        fields = ["kind", "legal_entity", "role", "user", "currency", "max_amount"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = Group.objects.filter(name__in=HUMAN_ROLES).order_by("name")
        self.fields["user"].queryset = User.objects.filter(kind=User.Kind.HUMAN, is_active=True).order_by("username")
        self.fields["legal_entity"].empty_label = "Every legal entity"
        if self.instance.pk:
            self.initial["max_amount"] = f"{self.instance.max_amount:,.2f}"
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean_max_amount(self):
        try:
            return parse_amount(self.cleaned_data["max_amount"])
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message)


def bootstrap_style(form: forms.BaseForm, *, small: bool = False) -> None:
    """Give every visible widget its Bootstrap 5 class (kept alongside classes it already has);
    `small`: the -sm sizes, for filter bars and table rows."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        wanted = [css] + ([f"{css}-sm"] if small and css != "form-check-input" else [])
        classes = widget.attrs.get("class", "").split()
        widget.attrs["class"] = " ".join([*classes, *(c for c in wanted if c not in classes)])


class BootstrapMixin:
    """Bootstrap classes for a form: `_style()` in __init__ styles every widget; after
    validation the fields with errors are marked `is-invalid` (`is_valid` does it, `mark_invalid`
    again after a service added errors)."""

    def _style(self) -> None:
        bootstrap_style(self)

    def is_valid(self) -> bool:
        valid = super().is_valid()
        self.mark_invalid()
        return valid

    def mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", "").split():
                    widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()


def parse_decimal(form: forms.BaseForm, name: str, *, currency: str | None = None, percent: bool = False,
                  positive: bool = False, default: Decimal | None = None) -> Decimal | None:
    """The field's text as a Decimal (None and an error on the field when it is not one)."""
    text = (form.cleaned_data.get(name) or "").strip()
    if not text:
        return default
    try:
        value = parse_amount(text, currency)
    except InvalidAmount as exc:
        form.add_error(name, exc.message)
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > STORAGE_PLACES:
        form.add_error(name, f"Use at most {STORAGE_PLACES} decimal places.")
        return None
    if value < 0 or (positive and value == 0):
        form.add_error(name, "Enter an amount above zero." if positive else "Enter zero or more.")
        return None
    if percent and value > Decimal(100):
        form.add_error(name, "A percentage is at most 100.")
        return None
    return value
