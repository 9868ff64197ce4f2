"""Forms for the finance settings pages: the finance policy and the product catalogue.

Forms validate shape (amounts typed as text and parsed strictly by `otc.money.parse_amount`,
never float; currency codes; whole numbers); the services validate meaning."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from otc.errors import InvalidAmount, ValidationFailed
from otc.forms import bootstrap_style
from otc.money import minor_units, parse_amount, validate_currency

from .models import FinancePolicy, Product
from .policy_services import parse_currency_list

HUNDRED = Decimal(100)


def _amount(value: str, currency: str | None = None) -> Decimal:
    try:
        amount = parse_amount(value, currency)
    except InvalidAmount as exc:
        raise forms.ValidationError(exc.message)
    if amount < 0:
        raise forms.ValidationError("Must not be negative.")
    return amount


def _percent(value: str) -> Decimal:
    text = (value or "").strip().rstrip("%").strip()
    try:
        amount = parse_amount(text)
    except InvalidAmount:
        raise forms.ValidationError(f"{value!r} is not a percentage: type a number between 0 and 100, e.g. 15 or 12.5.")
    if amount < 0 or amount > HUNDRED:
        raise forms.ValidationError("A percentage is between 0 and 100.")
    if isinstance(amount.as_tuple().exponent, int) and -amount.as_tuple().exponent > 4:
        raise forms.ValidationError("Use at most four decimal places.")
    return amount


def _format_number(value: Decimal, places: int = 2) -> str:
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places)):,.{places}f}"


def _format_percent(value: Decimal) -> str:
    text = f"{Decimal(value).normalize():f}"
    return text


class FinancePolicyForm(forms.Form):
    """A legal entity's finance policy. Thresholds are in the entity's functional currency."""

    standard_payment_terms_days = forms.IntegerField(
        label="Standard payment terms (days)", min_value=0, max_value=365,
        help_text="Longer terms are a warning, e.g. 30 for Net 30.")
    max_payment_terms_days = forms.IntegerField(
        label="Maximum payment terms (days)", min_value=0, max_value=365,
        help_text="Longer terms are a high-severity finding: a Finance Manager approves.")
    max_discount_percent = forms.CharField(
        label="Maximum discount (%)", help_text="Line discount then contract discount, combined, e.g. 15.")
    reviewer_max_value = forms.CharField(
        label="Reviewer's threshold", help_text="Total contract value a Contract Reviewer approves alone.")
    manager_max_value = forms.CharField(
        label="Finance Manager's threshold", help_text="Above this a Controller approves too.")
    allowed_currencies = forms.CharField(
        label="Allowed currencies", required=False,
        help_text="ISO codes separated by commas, e.g. EUR, USD, GBP. Empty: any currency.")
    high_risk_requires_prepayment = forms.BooleanField(
        label="High-risk customers must prepay", required=False)
    high_risk_min_prepayment_percent = forms.CharField(
        label="Minimum prepayment for high-risk customers (%)", help_text="e.g. 25.")
    credit_warning_percent = forms.CharField(
        label="Credit warning (% of the credit limit)",
        help_text="Open AR plus the contract's first-year value above this share is a warning; above 100% is high.")
    max_free_periods = forms.IntegerField(label="Maximum free periods", min_value=0, max_value=120)
    min_renewal_notice_days = forms.IntegerField(
        label="Minimum renewal notice (days)", min_value=0, max_value=3650,
        help_text="For contracts that renew automatically.")
    arrears_max_months = forms.IntegerField(
        label="Longest period billed in arrears (months)", min_value=0, max_value=12,
        help_text="Billing in arrears on longer periods is a warning.")
    max_backdating_days = forms.IntegerField(
        label="Maximum backdating (days)", min_value=0, max_value=3650,
        help_text="A contract starting earlier than this before today is blocking.")
    reason = forms.CharField(
        label="Reason for the change", max_length=100,
        help_text="Kept in the history, e.g. 'Board decision 2026-03: Net 45 standard'.")

    def __init__(self, *args: Any, policy: FinancePolicy, currency: str, **kwargs: Any) -> None:
        self.currency = currency
        if not args or args[0] is None:
            kwargs.setdefault("initial", self.initial_from(policy, currency))
        super().__init__(*args, **kwargs)
        for name in ("reviewer_max_value", "manager_max_value"):
            self.fields[name].label = f"{self.fields[name].label} ({currency})"
        bootstrap_style(self)

    @staticmethod
    def initial_from(policy: FinancePolicy, currency: str) -> dict[str, Any]:
        places = minor_units(currency)
        return {
            "standard_payment_terms_days": policy.standard_payment_terms_days,
            "max_payment_terms_days": policy.max_payment_terms_days,
            "max_discount_percent": _format_percent(policy.max_discount_percent),
            "reviewer_max_value": _format_number(policy.reviewer_max_value, places),
            "manager_max_value": _format_number(policy.manager_max_value, places),
            "allowed_currencies": ", ".join(policy.allowed_currencies or []),
            "high_risk_requires_prepayment": policy.high_risk_requires_prepayment,
            "high_risk_min_prepayment_percent": _format_percent(policy.high_risk_min_prepayment_percent),
            "credit_warning_percent": _format_percent(policy.credit_warning_percent),
            "max_free_periods": policy.max_free_periods,
            "min_renewal_notice_days": policy.min_renewal_notice_days,
            "arrears_max_months": policy.arrears_max_months,
            "max_backdating_days": policy.max_backdating_days,
        }

    def clean_max_discount_percent(self) -> Decimal:
        return _percent(self.cleaned_data["max_discount_percent"])

    def clean_high_risk_min_prepayment_percent(self) -> Decimal:
        return _percent(self.cleaned_data["high_risk_min_prepayment_percent"])

    def clean_credit_warning_percent(self) -> Decimal:
        return _percent(self.cleaned_data["credit_warning_percent"])

    def clean_reviewer_max_value(self) -> Decimal:
        return _amount(self.cleaned_data["reviewer_max_value"], self.currency)

    def clean_manager_max_value(self) -> Decimal:
        return _amount(self.cleaned_data["manager_max_value"], self.currency)

    def clean_allowed_currencies(self) -> list[str]:
        try:
            return parse_currency_list(self.cleaned_data.get("allowed_currencies") or "")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        reviewer, manager = data.get("reviewer_max_value"), data.get("manager_max_value")
        if reviewer is not None and manager is not None and manager < reviewer:
            self.add_error("manager_max_value", "The manager's threshold must be at least the reviewer's.")
        standard, maximum = data.get("standard_payment_terms_days"), data.get("max_payment_terms_days")
        if standard is not None and maximum is not None and maximum < standard:
            self.add_error("max_payment_terms_days", "Maximum terms must be at least the standard terms.")
        return data


class ProductSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False,
                        widget=forms.TextInput(attrs={"placeholder": "SKU, name or description", "type": "search"}))
    active = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "Active and inactive"), ("yes", "Active"), ("no", "Inactive")])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap_style(self)
        for field in self.fields.values():
            field.widget.attrs["class"] += " form-control-sm" if "form-control" in field.widget.attrs["class"] else (
                " form-select-sm")


class ProductForm(forms.Form):
    sku = forms.CharField(label="SKU", max_length=40, help_text="Unique, e.g. PLAT-STD-M.")
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    unit = forms.ChoiceField(choices=Product.Unit.choices, help_text="UN/ECE unit code, as e-invoices require.")
    currency = forms.CharField(max_length=3, help_text="Currency of the default price, e.g. EUR.")
    default_price = forms.CharField(label="Default price", help_text="e.g. 1,200.00; lines may set their own price.")
    revenue_account_code = forms.CharField(label="Revenue account", max_length=20,
                                           help_text="Account code in each entity's chart, e.g. 4000.")
    tax_category = forms.ChoiceField(choices=Product.TaxCategory.choices)
    is_active = forms.BooleanField(label="Active (offered on new contracts)", required=False, initial=True)
    reason = forms.CharField(label="Reason for the change", max_length=100, required=False,
                             help_text="Kept in the history.")

    def __init__(self, *args: Any, product: Product | None = None, **kwargs: Any) -> None:
        if product is not None and (not args or args[0] is None):
            kwargs.setdefault("initial", {
                "sku": product.sku, "name": product.name, "description": product.description, "unit": product.unit,
                "currency": product.currency, "default_price": _format_number(product.default_price, _places(product)),
                "revenue_account_code": product.revenue_account_code, "tax_category": product.tax_category,
                "is_active": product.is_active,
            })
        super().__init__(*args, **kwargs)
        if product is None:
            self.initial.setdefault("revenue_account_code", "4000")
            self.initial.setdefault("unit", Product.Unit.MONTH)
        bootstrap_style(self)

    def clean_currency(self) -> str:
        try:
            return validate_currency((self.cleaned_data.get("currency") or "").strip())
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        raw = data.get("default_price")
        if isinstance(raw, str):
            try:
                data["default_price"] = _amount(raw, data.get("currency"))
            except forms.ValidationError as exc:
                data.pop("default_price", None)
                self.add_error("default_price", exc)
        return data

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "reason"}


def _places(product: Product) -> int:
    try:
        return minor_units(product.currency)
    except InvalidAmount:
        return 2
