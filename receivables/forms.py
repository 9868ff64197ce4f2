"""Receivables: forms validate shape; services validate meaning.

Amounts are typed text parsed strictly by `otc.money.parse_amount` (never float). The CSV
presets are constants here: nothing about them is stored in the database."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms

from ledger.models import Account, LegalEntity
from otc.dates import validate_business_date
from otc.forms import bootstrap_style, parse_decimal
from receivables.parsers import CsvMapping

from .models import BankAccount, Receipt, StatementImport

DATE = {"widget": forms.DateInput(attrs={"type": "date"})}


def _small(form: forms.BaseForm) -> None:
    """Bootstrap classes, small size (filters and table rows)."""
    bootstrap_style(form, small=True)


def _amount_field(label: str, *, required: bool = False, help_text: str = "") -> forms.CharField:
    return forms.CharField(label=label, required=required, help_text=help_text,
                           widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "text-end"}))


# --- workbench -------------------------------------------------------------------------------------

class WorkbenchFilterForm(forms.Form):
    bank_account = forms.ModelChoiceField(BankAccount.objects.none(), required=False, empty_label="Any bank account")
    status = forms.ChoiceField(required=False, choices=[
        ("", "Any waiting"), (Receipt.Status.UNAPPLIED, "Unapplied"),
        (Receipt.Status.PARTIALLY_APPLIED, "Partially applied"), (Receipt.Status.ON_ACCOUNT, "On account")])
    identified = forms.ChoiceField(required=False, label="Customer", choices=[
        ("", "Identified or not"), ("yes", "Identified"), ("no", "Not identified")])
    amount_min = _amount_field("Left from")
    amount_max = _amount_field("Left to")
    value_from = forms.DateField(validators=[validate_business_date], required=False, label="Value date from", **DATE)
    value_to = forms.DateField(validators=[validate_business_date], required=False, label="to", **DATE)
    q = forms.CharField(required=False, label="Payer, remittance or number")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].queryset = BankAccount.objects.order_by("name").only("id", "name", "account_number")
        _small(self)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"f-{name}")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["amount_min"] = parse_decimal(self, "amount_min")
        data["amount_max"] = parse_decimal(self, "amount_max")
        return data

    def selector_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        account = data.get("bank_account")
        return {"bank_account_id": account.pk if account else None, "status": data.get("status") or "",
                "identified": data.get("identified") or "", "amount_min": data.get("amount_min"),
                "amount_max": data.get("amount_max"), "value_from": data.get("value_from"),
                "value_to": data.get("value_to"), "q": data.get("q") or ""}


# --- receipt page ---------------------------------------------------------------------------------

class InvoiceSearchForm(forms.Form):
    """Manual search of open invoices (htmx): by customer, part of the number, amount."""

    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer_q = forms.CharField(required=False, label="Customer")
    number = forms.CharField(required=False, label="Invoice number")
    amount = _amount_field("Amount")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _small(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["amount"] = parse_decimal(self, "amount")
        return data


class AllocationForm(forms.Form):
    """One row of a split: an invoice (by number) and the amount to apply to it."""

    invoice = forms.CharField(required=False, max_length=40, label="Invoice number",
                              widget=forms.TextInput(attrs={"class": "font-monospace alloc-invoice"}))
    amount = forms.CharField(required=False, label="Amount",
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "text-end alloc-amount"}))

    def __init__(self, *args: Any, currency: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        _small(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        invoice, text = (data.get("invoice") or "").strip(), (data.get("amount") or "").strip()
        if invoice and not text:
            self.add_error("amount", "Enter the amount to apply to this invoice.")
        elif text and not invoice:
            self.add_error("invoice", "Enter the invoice number.")
        elif text:
            data["amount"] = parse_decimal(self, "amount", currency=self.currency or None, positive=True)
        return data


class BaseAllocationFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "currency": self.form_kwargs.get("currency", "")}

    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.rows():
            raise forms.ValidationError("Enter at least one invoice and amount.")

    def rows(self) -> list[tuple[str, Decimal]]:
        """(invoice number, amount) for every filled row."""
        return [(form.cleaned_data["invoice"].strip(), form.cleaned_data["amount"]) for form in self.forms
                if form.cleaned_data.get("invoice") and isinstance(form.cleaned_data.get("amount"), Decimal)]


SPLIT_ROWS = 5


def allocation_formset(data: Any = None, *, currency: str, initial: list[dict[str, Any]] | None = None):
    cls = forms.formset_factory(AllocationForm, formset=BaseAllocationFormSet, extra=SPLIT_ROWS, max_num=30)
    formset = cls(data, prefix="alloc", initial=initial, form_kwargs={"currency": currency})
    return formset


class IdentifyForm(forms.Form):
    customer = forms.IntegerField(min_value=1, label="Customer")


class NoteForm(forms.Form):
    note = forms.CharField(required=False, max_length=500)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500)


class RefundForm(forms.Form):
    amount = _amount_field("Amount to refund", required=True)
    reason = forms.CharField(max_length=500)

    def __init__(self, *args: Any, currency: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("amount"):
            data["amount"] = parse_decimal(self, "amount", currency=self.currency or None, positive=True)
        return data


RETURN_REASONS = ("Returned: insufficient funds (NSF)", "Returned: account closed", "Returned: payment recalled",
                  "Cheque bounced")


class AcceptForm(forms.Form):
    """Accept suggestion `index` of the stored (or freshly computed) list; `allocations` is what
    the user saw ("invoice_id:amount,..."), so a suggestion that changed meanwhile is refused."""

    index = forms.IntegerField(min_value=0, max_value=50)
    fresh = forms.BooleanField(required=False)
    allocations = forms.CharField(max_length=2000)
    # the second click a suggestion naming another customer's invoice than the payer's needs
    confirm_other = forms.BooleanField(required=False)
    # a short payment within tolerance: write the difference off in the same step
    write_off = forms.BooleanField(required=False)


def allocations_key(allocations: list[dict[str, Any]]) -> str:
    return ",".join(f"{a['invoice_id']}:{Decimal(str(a['amount'])).normalize():f}" for a in allocations)


# --- manual receipts and bank accounts ------------------------------------------------------------

class ManualReceiptForm(forms.Form):
    bank_account = forms.ModelChoiceField(BankAccount.objects.none(), label="Bank account")
    value_date = forms.DateField(validators=[validate_business_date], label="Value date", **DATE)
    amount = _amount_field("Amount", required=True)
    payer_name = forms.CharField(required=False, max_length=200, label="Payer")
    payer_account = forms.CharField(required=False, max_length=60, label="Payer's account")
    remittance = forms.CharField(required=False, label="Remittance / memo", widget=forms.Textarea(attrs={"rows": 2}))
    bank_reference = forms.CharField(required=False, max_length=100, label="Cheque or lockbox reference",
                                     help_text="Recorded once per bank account.")
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].queryset = BankAccount.objects.filter(is_active=True).order_by("name")
        bootstrap_style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        account = data.get("bank_account")
        if data.get("amount"):
            data["amount"] = parse_decimal(self, "amount", currency=account.currency if account else None,
                                           positive=True)
        return data

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"bank_account_id": data["bank_account"].pk, "value_date": data["value_date"], "amount": data["amount"],
                "payer_name": data.get("payer_name") or "", "payer_account": data.get("payer_account") or "",
                "remittance": data.get("remittance") or "", "bank_reference": data.get("bank_reference") or "",
                "customer_id": data.get("customer") or None}


class BankAccountForm(forms.Form):
    legal_entity = forms.ModelChoiceField(LegalEntity.objects.none(), label="Legal entity")
    name = forms.CharField(max_length=120, help_text="e.g. Operating account EUR")
    account_number = forms.CharField(max_length=40, label="Account number or IBAN", help_text="As on statements.")
    currency = forms.CharField(max_length=3, widget=forms.TextInput(attrs={"style": "text-transform: uppercase"}))
    gl_account = forms.ModelChoiceField(Account.objects.none(), required=False, label="Cash account",
                                        empty_label="The entity's first cash account")
    bank_name = forms.CharField(max_length=120, required=False)
    bic = forms.CharField(max_length=20, required=False, label="BIC / routing number")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["legal_entity"].queryset = LegalEntity.objects.order_by("code")
        self.fields["gl_account"].queryset = (Account.objects.filter(role=Account.Role.CASH, is_active=True)
                                              .select_related("legal_entity").order_by("legal_entity__code", "code"))
        self.fields["gl_account"].label_from_instance = lambda a: f"{a.legal_entity.code} {a.code} {a.name}"
        bootstrap_style(self)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"legal_entity_id": data["legal_entity"].pk, "name": data["name"],
                "account_number": data["account_number"], "currency": data["currency"].strip().upper(),
                "gl_account_id": data["gl_account"].pk if data.get("gl_account") else None,
                "bank_name": data.get("bank_name") or "", "bic": data.get("bic") or ""}


# --- statement import -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CsvPreset:
    key: str
    label: str
    mapping: dict[str, Any]


#: CSV layouts offered on the import page. Constants, on purpose: a preset is a starting point,
#: every field can be overridden on the form, and nothing about it is stored.
CSV_PRESETS = (
    CsvPreset("signed_iso", "Signed amount, ISO dates (Date, Amount, Currency, ...)", {
        "date": "Date", "value_date": None, "amount": "Amount", "currency": "Currency", "payer_name": "Payer",
        "payer_account": "Payer Account", "remittance": ("Reference", "Description"),
        "bank_reference": "Transaction ID", "date_format": "%Y-%m-%d", "decimal_separator": ".",
        "thousands_separator": "", "delimiter": ",", "credit": None, "debit": None}),
    CsvPreset("german", "German: ; delimiter, 1.234,56, dd.mm.yyyy, credit/debit columns", {
        "date": "Buchungstag", "value_date": "Valuta", "amount": "", "currency": "Währung",
        "payer_name": "Auftraggeber/Empfänger", "payer_account": "IBAN", "remittance": ("Verwendungszweck",),
        "bank_reference": "Referenz", "date_format": "%d.%m.%Y", "decimal_separator": ",",
        "thousands_separator": ".", "delimiter": ";", "credit": "Haben", "debit": "Soll"}),
)
PRESETS = {preset.key: preset for preset in CSV_PRESETS}
#: Form fields that override a preset's mapping when filled in.
MAPPING_FIELDS = ("date", "value_date", "amount", "credit", "debit", "currency", "payer_name", "payer_account",
                  "remittance", "bank_reference", "date_format", "delimiter", "decimal_separator",
                  "thousands_separator")
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}


class StatementUploadForm(forms.Form):
    file = forms.FileField(label="Statement file", required=False,
                           help_text="BAI2, camt.053/camt.054, MT940 or CSV; the format is recognised from the content.")
    token = forms.CharField(required=False, widget=forms.HiddenInput)  # the previewed file, kept for 30 minutes
    format = forms.ChoiceField(required=False, choices=[("", "Recognise automatically")] + [
        (value, label) for value, label in StatementImport.Format.choices if value != StatementImport.Format.MANUAL])
    # CSV only
    preset = forms.ChoiceField(required=False, label="CSV layout",
                               choices=[(p.key, p.label) for p in CSV_PRESETS], initial=CSV_PRESETS[0].key)
    bank_account = forms.ModelChoiceField(BankAccount.objects.none(), required=False, label="Bank account (CSV)",
                                          help_text="CSV files rarely name their account: say which one it is.")
    default_currency = forms.CharField(required=False, max_length=3, label="Currency when no column",
                                       widget=forms.TextInput(attrs={"style": "text-transform: uppercase"}))
    date = forms.CharField(required=False, label="Booking date column")
    value_date = forms.CharField(required=False, label="Value date column")
    amount = forms.CharField(required=False, label="Signed amount column")
    credit = forms.CharField(required=False, label="Credit column")
    debit = forms.CharField(required=False, label="Debit column")
    currency = forms.CharField(required=False, label="Currency column")
    payer_name = forms.CharField(required=False, label="Payer column")
    payer_account = forms.CharField(required=False, label="Payer account column")
    remittance = forms.CharField(required=False, label="Remittance columns", help_text="Several: separate by |")
    bank_reference = forms.CharField(required=False, label="Bank reference column")
    date_format = forms.CharField(required=False, label="Date format", help_text="e.g. %Y-%m-%d or %d.%m.%Y")
    delimiter = forms.ChoiceField(required=False, choices=[("", "Layout's")] + [(k, k) for k in DELIMITERS])
    decimal_separator = forms.ChoiceField(required=False, choices=[("", "Layout's"), (".", "."), (",", ",")])
    thousands_separator = forms.ChoiceField(required=False, choices=[
        ("", "Layout's"), ("none", "none"), (",", ","), (".", "."), ("space", "space"), ("'", "'")])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].queryset = BankAccount.objects.filter(is_active=True).order_by("name")
        bootstrap_style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("file") and not data.get("token"):
            self.add_error("file", "Choose the statement file.")
        return data

    def csv_mapping(self) -> CsvMapping:
        """The preset's mapping with every filled-in field overriding it ("-" means: no such column)."""
        data = self.cleaned_data
        mapping = dict(PRESETS[data.get("preset") or CSV_PRESETS[0].key].mapping)
        for name in MAPPING_FIELDS:
            value = (data.get(name) or "").strip() if name != "delimiter" else data.get(name)
            if not value:
                continue
            if value == "-":  # the file has no such column: clear the layout's
                mapping[name] = "" if name == "amount" else (() if name == "remittance" else None)
                continue
            if name == "remittance":
                value = tuple(part.strip() for part in value.split("|") if part.strip())
            elif name == "delimiter":
                value = DELIMITERS[value]
            elif name == "thousands_separator":
                value = {"none": "", "space": " "}.get(value, value)
            mapping[name] = value
        if data.get("amount"):
            mapping["credit"] = mapping["debit"] = None
        elif data.get("credit") or data.get("debit"):
            mapping["amount"] = ""
        account = data.get("bank_account")
        mapping["account_number"] = account.account_number if account else ""
        mapping["default_currency"] = (data.get("default_currency") or "").strip().upper() or (
            account.currency if account else "")
        return CsvMapping(**mapping)


__all__ = [
    "CSV_PRESETS", "PRESETS", "RETURN_REASONS", "AcceptForm", "AllocationForm", "BankAccountForm", "IdentifyForm",
    "InvoiceSearchForm", "ManualReceiptForm", "NoteForm", "ReasonForm", "RefundForm", "StatementUploadForm",
    "WorkbenchFilterForm", "allocation_formset", "allocations_key",
]
