"""Help desk: forms validate shape; services validate meaning.

The filing form has the fields its category needs, and every picker lists only what the rep may
see: their customers, those customers' issued invoices, contracts and receipts."""

from __future__ import annotations

from typing import Any

from django import forms

from billing.models import CreditNote, Invoice
from billing.selectors import invoices_visible_to
from contracts.selectors import contracts_visible_to
from customers.selectors import customers_visible_to
from otc.countries import country_choices
from otc.models import User
from receivables.selectors import receipts_visible_to

from .models import CannedReply, Category, Priority, Ticket, TicketLink

# category -> the optional/required fields shown beside subject and description
CATEGORY_FIELDS: dict[str, list[str]] = {
    Category.INVOICE_COPY: ["invoice"],
    Category.BILLING_QUESTION: ["customer", "invoice"],
    Category.CREDIT_REQUEST: ["invoice", "amount", "credit_reason"],
    Category.DISPUTE: ["invoice", "amount", "dispute_reason"],
    Category.PAYMENT_STATUS: ["invoice", "receipt"],
    Category.PORTAL_PROBLEM: ["invoice", "portal_message"],
    Category.DATA_CHANGE: ["customer", "address_line1", "address_line2", "postal_code", "city", "region", "country",
                           "tax_id", "billing_email"],
    Category.CONTRACT_QUESTION: ["contract"],
    Category.OTHER: ["customer"],
}
CATEGORY_HELP: dict[str, str] = {
    Category.INVOICE_COPY: "We send you the PDF; the form first shows where the invoice went.",
    Category.BILLING_QUESTION: "Anything about what or how we bill.",
    Category.CREDIT_REQUEST: "Finance requests the credit note; you hear when it is issued or rejected.",
    Category.DISPUTE: "The customer contests an invoice; Collections works it.",
    Category.PAYMENT_STATUS: "The form first shows what the books already say.",
    Category.PORTAL_PROBLEM: "The customer's procurement portal rejected or lacks an invoice.",
    Category.DATA_CHANGE: "Address, tax id or billing e-mail; a billing specialist approves it.",
    Category.CONTRACT_QUESTION: "Terms, renewals, what a contract bills.",
    Category.OTHER: "Anything else for finance.",
}
CHANGE_FIELDS = ["address_line1", "address_line2", "postal_code", "city", "region", "country", "tax_id", "billing_email"]


class TicketForm(forms.Form):
    subject = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    customer = forms.ModelChoiceField(queryset=None, required=False)
    invoice = forms.ModelChoiceField(queryset=None, required=False)
    contract = forms.ModelChoiceField(queryset=None, required=False)
    receipt = forms.ModelChoiceField(queryset=None, required=False, label="Receipt (if the customer sent one)")
    amount = forms.DecimalField(max_digits=20, decimal_places=4, required=False, min_value=0,
                                help_text="In the invoice's currency")
    credit_reason = forms.ChoiceField(choices=CreditNote.Reason.choices, required=False, label="Reason")
    dispute_reason = forms.CharField(max_length=200, required=False, label="What the customer contests")
    portal_message = forms.CharField(max_length=500, required=False, label="The portal's message")
    address_line1 = forms.CharField(max_length=200, required=False, label="New address line 1")
    address_line2 = forms.CharField(max_length=200, required=False, label="New address line 2")
    postal_code = forms.CharField(max_length=20, required=False, label="New postal code")
    city = forms.CharField(max_length=100, required=False, label="New city")
    region = forms.CharField(max_length=100, required=False, label="New state / region")
    country = forms.ChoiceField(choices=[("", "—"), *country_choices()], required=False, label="New country")
    tax_id = forms.CharField(max_length=40, required=False, label="New tax id")
    billing_email = forms.EmailField(required=False, label="New billing e-mail")
    attachment = forms.FileField(required=False)
    self_service_shown = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, category: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category = category
        keep = {"subject", "description", "attachment", "self_service_shown", *CATEGORY_FIELDS[category]}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        customers = customers_visible_to(user).order_by("legal_name")
        if "customer" in self.fields:
            self.fields["customer"].queryset = customers
            self.fields["customer"].required = category != Category.OTHER
        if "invoice" in self.fields:
            self.fields["invoice"].queryset = (invoices_visible_to(user).exclude(status=Invoice.Status.DRAFT)
                                               .select_related("customer").order_by("-issue_date", "-id"))
            self.fields["invoice"].required = category != Category.BILLING_QUESTION
            self.fields["invoice"].label_from_instance = lambda i: f"{i.number} · {i.customer.name} · {i.gross_total:,.2f} {i.currency}"
            self.fields["invoice"].widget.attrs.update({"data-testid": "invoice-picker"})
        if "contract" in self.fields:
            self.fields["contract"].queryset = contracts_visible_to(user).select_related("customer").order_by("-id")
            self.fields["contract"].required = True
        if "receipt" in self.fields:
            self.fields["receipt"].queryset = receipts_visible_to(user).order_by("-value_date", "-id")
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            if not isinstance(field.widget, forms.HiddenInput | forms.CheckboxInput):
                field.widget.attrs.setdefault("class", css)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.category == Category.DATA_CHANGE and not any(data.get(f) for f in CHANGE_FIELDS):
            raise forms.ValidationError("Enter at least one new value.")
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        details: dict[str, Any] = {}
        for name in ("credit_reason", "dispute_reason", "portal_message"):
            if data.get(name):
                details[name] = data[name]
        if self.category == Category.DATA_CHANGE:
            details["changes"] = {f: data[f] for f in CHANGE_FIELDS if data.get(f)}
        return {
            "category": self.category, "subject": data["subject"], "description": data["description"],
            "customer_id": data["customer"].pk if data.get("customer") else None,
            "invoice_id": data["invoice"].pk if data.get("invoice") else None,
            "contract_id": data["contract"].pk if data.get("contract") else None,
            "receipt_id": data["receipt"].pk if data.get("receipt") else None,
            "amount": data.get("amount"), "details": details,
            "self_service_shown": bool(data.get("self_service_shown")),
        }


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}), required=False, label="Message")
    internal = forms.BooleanField(required=False, label="Internal note (finance only)",
                                  widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    attachment = forms.FileField(required=False, widget=forms.ClearableFileInput(attrs={"class": "form-control"}))


class FilterForm(forms.Form):
    scope = forms.ChoiceField(required=False, choices=[("", "All active"), ("mine", "Mine"), ("unassigned", "Unassigned"),
                                                       ("breached", "Due soon or breached")])
    status = forms.ChoiceField(required=False, choices=[("", "Active"), *Ticket.Status.choices, ("all", "Any")])
    category = forms.ChoiceField(required=False, choices=[("", "Any category"), *Category.choices])
    q = forms.CharField(required=False, label="Search")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm" if isinstance(field.widget, forms.Select) \
                else "form-control form-control-sm"


class CreditRequestForm(forms.Form):
    reason = forms.ChoiceField(choices=CreditNote.Reason.choices, widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    amount = forms.DecimalField(max_digits=20, decimal_places=4, required=False, min_value=0,
                                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm", "step": "0.01"}),
                                help_text="Net amount; empty: the ticket's amount, else the whole invoice")


class LinkForm(forms.Form):
    reference = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"class": "form-control form-control-sm",
                                                                             "placeholder": "HD-000123"}))
    kind = forms.ChoiceField(choices=[*TicketLink.Kind.choices, ("merge", "Merge this ticket into it")],
                             widget=forms.Select(attrs={"class": "form-select form-select-sm"}))


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_canned(body: str, ticket: Ticket, agent: User) -> str:
    """Fill {requester}, {customer}, {invoice}, {reference}, {agent}; unknown placeholders stay."""
    values = _Blank(requester=ticket.requester.first_name or str(ticket.requester),
                    customer=ticket.customer.name if ticket.customer_id else "",
                    invoice=ticket.invoice.number if ticket.invoice_id else "", reference=ticket.reference,
                    agent=agent.get_full_name() or agent.username)
    try:
        return body.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return body


def canned_replies(ticket: Ticket, agent: User) -> list[dict[str, str]]:
    """The canned replies for the ticket's category (and the general ones), filled in."""
    rows = CannedReply.objects.filter(category__in=["", ticket.category]).order_by("title")
    return [{"title": r.title, "body": render_canned(r.body, ticket, agent)} for r in rows]
