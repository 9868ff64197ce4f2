"""Invoice list and detail, the issue/hold/release/void actions, and the PDF, UBL and cXML downloads."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import BooleanField, Case, F, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ledger.selectors import list_totals
from otc import dates, errors
from otc.actions import button_action, domain_error_response, require
from otc.aggregates import MONEY_FIELD
from otc.history import history_rows
from otc.listing import sortable, sorted_page
from otc.registry import registry, render_panels

from .. import services
from ..einvoice import invoice_to_cxml, invoice_to_ubl
from ..forms import InvoiceFilterForm, ReasonForm
from ..models import Invoice
from ..pdf import invoice_pdf_download
from ..selectors import invoices_visible_to
from .documents import stored_pdf_response

PAGE_SIZE = 50
OPEN_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
CREDITABLE = (*OPEN_STATUSES, Invoice.Status.PAID)


def visible_invoice(request: HttpRequest, pk: int) -> Invoice:
    """The invoice if the user may see its customer; 404 otherwise."""
    queryset = invoices_visible_to(request.user).select_related(
        "customer", "legal_entity", "contract", "billing_run", "journal_entry", "open_item", "void_entry", "void_credit_note",
        "issued_by", "voided_by", "created_by")
    return get_object_or_404(queryset, pk=pk)


_visible_invoice = visible_invoice  # the old name (used below, and by code on other branches)


@login_required
@permission_required("billing.view_invoice", raise_exception=True)
def invoice_list(request: HttpRequest) -> HttpResponse:
    """The invoices the user may see, filtered and paged (a fixed number of queries)."""
    form = InvoiceFilterForm(request.GET or None)
    queryset = invoices_visible_to(request.user).select_related("customer", "legal_entity")
    if form.is_valid():
        data = form.cleaned_data
        if data.get("legal_entity"):
            queryset = queryset.filter(legal_entity=data["legal_entity"])
        if q := (data.get("q") or "").strip():
            queryset = queryset.filter(Q(number__icontains=q) | Q(customer__legal_name__icontains=q)
                                       | Q(customer__display_name__icontains=q)
                                       | Q(customer__account_number__icontains=q) | Q(po_number__icontains=q))
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("period"):
            queryset = queryset.filter(billing_period_start=data["period"].replace(day=1))
        if data.get("overdue"):
            queryset = queryset.filter(status__in=OPEN_STATUSES, due_date__lt=dates.today(), gross_total__gt=0)
        if data.get("on_hold"):
            queryset = queryset.filter(on_hold=True)
    queryset = queryset.annotate(
        is_overdue=Case(When(status__in=OPEN_STATUSES, due_date__lt=dates.today(), gross_total__gt=0, then=Value(True)),
                        default=Value(False), output_field=BooleanField()),
        balance=Case(When(status__in=(Invoice.Status.VOID, Invoice.Status.DRAFT), then=Value(Decimal(0))),
                     default=F("gross_total") - F("amount_credited") - F("amount_paid"), output_field=MONEY_FIELD))
    return sorted_page(request, INVOICE_SORTS, queryset, "billing/invoice_list.html", {"filter_form": form},
                       totals=lambda rows: list_totals(rows, gross="gross_total", open="balance"), page_size=PAGE_SIZE)


INVOICE_SORTS = sortable("billing:invoices", {
    "number": ("number",), "entity": ("legal_entity__code",), "customer": ("customer__legal_name",),
    "period": ("billing_period_start",), "issued": ("issue_date",), "due": ("due_date",), "status": ("status",),
    "total": ("gross_total",), "balance": ("balance",),
}, default="-issued")


def _tax_summary(lines: list) -> list[dict]:
    groups: OrderedDict = OrderedDict()
    for line in lines:
        key = (line.tax_code.code, line.tax_rate)
        row = groups.setdefault(key, {"code": line.tax_code, "rate": line.tax_rate, "net": Decimal(0), "tax": Decimal(0)})
        row["net"] += line.net_amount
        row["tax"] += line.tax_amount
    return list(groups.values())


@login_required
@permission_required("billing.view_invoice", raise_exception=True)
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _visible_invoice(request, pk)
    lines = list(invoice.lines.select_related("tax_code", "product").order_by("position"))
    context = {
        "invoice": invoice,
        "lines": lines,
        "tax_summary": _tax_summary(lines),
        "deliveries": list(invoice.deliveries.all()),
        "submissions": list(invoice.portal_submissions.select_related("uploaded_by")),
        "credit_notes": list(invoice.credit_notes.order_by("requested_at", "id")),
        "creditable": invoice.status in CREDITABLE,
        "void_form": ReasonForm(),
        "overdue": invoice.status in OPEN_STATUSES and invoice.balance_due > 0 and invoice.due_date
        and invoice.due_date < dates.today(),
        "history": history_rows(invoice) if request.user.has_perm("otc.view_audit_trail") else None,
        "invoice_panels": render_panels(request, registry.invoice, invoice=invoice),
        "communication_panels": render_panels(request, registry.invoice_communication, invoice=invoice),
        "can_send_again": invoice.status not in (Invoice.Status.DRAFT, Invoice.Status.VOID)
        and request.user.has_perm("billing.issue_invoice"),
    }
    return render(request, "billing/invoice_detail.html", context)


def _invoice_action(request: HttpRequest, pk: int, *, permission: str, act, done) -> HttpResponse:
    """A POST button on the invoice page: visibility (404), then the shared button helper."""
    invoice = _visible_invoice(request, pk)
    return button_action(request, permission=permission, back=reverse("billing:invoice_detail", args=[invoice.pk]),
                         act=lambda: act(invoice), done=done)


@login_required
@permission_required("billing.view_invoice", raise_exception=True)
@require_POST
def invoice_issue_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _invoice_action(
        request, pk, permission="billing.issue_invoice",
        act=lambda invoice: services.invoice_issue(invoice_id=invoice.pk, by=request.user),
        done=lambda issued: f"Invoice {issued.number} issued.",
    )


@login_required
@permission_required("billing.view_invoice", raise_exception=True)
@require_POST
def invoice_hold_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _invoice_action(
        request, pk, permission="billing.hold_invoice",
        act=lambda invoice: services.invoice_hold(invoice_id=invoice.pk, by=request.user,
                                                  reason=request.POST.get("reason", "")),
        done=lambda _result: "Invoice put on hold.",
    )


@login_required
@permission_required("billing.view_invoice", raise_exception=True)
@require_POST
def invoice_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _invoice_action(
        request, pk, permission="billing.hold_invoice",
        act=lambda invoice: services.invoice_release(invoice_id=invoice.pk, by=request.user,
                                                     reason=request.POST.get("reason", "")),
        done=lambda _result: "Invoice released from hold.",
    )


@login_required
@permission_required("billing.view_invoice", raise_exception=True)
@require_POST
def invoice_send_again_view(request: HttpRequest, pk: int) -> HttpResponse:
    def done(delivery) -> str:
        if delivery.status == "sent":
            return f"Invoice sent again to {delivery.recipients}."
        return f"Not sent: {delivery.detail}"

    return _invoice_action(
        request, pk, permission="billing.issue_invoice",
        act=lambda invoice: services.invoice_send_again(invoice_id=invoice.pk, by=request.user), done=done,
    )


@login_required
@permission_required("billing.view_invoice", raise_exception=True)
@require_POST
def invoice_void_view(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _visible_invoice(request, pk)
    require(request, "billing.void_invoice")
    back = reverse("billing:invoice_detail", args=[invoice.pk])
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the invoice is voided.")
        return redirect(back)
    try:
        voided = services.invoice_void(invoice_id=invoice.pk, by=request.user, reason=form.cleaned_data["reason"])
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, f"Invoice {voided.number} voided.")
    return redirect(back)


@login_required
@permission_required("billing.view_invoice", raise_exception=True)
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored PDF bytes exactly as issued (a void invoice: its stored VOID copy), served only
    when they match their SHA-256; rendered and stored now if the task has not run yet (a draft
    has no PDF). A mismatch answers 500 and logs an alert."""
    invoice = _visible_invoice(request, pk)
    if invoice.status == Invoice.Status.DRAFT:
        raise Http404("A draft has no PDF: issue it first.")
    return stored_pdf_response(lambda: invoice_pdf_download(invoice_id=invoice.pk))


def _void_einvoice(invoice: Invoice) -> HttpResponse:
    """An e-invoice cannot carry a VOID mark: a void invoice's UBL and cXML are gone (410); the
    cancelling credit note is the document to exchange, the PDF download serves the VOID copy."""
    cancelled_by = f" It is cancelled by credit note {invoice.void_credit_note}." if invoice.void_credit_note_id else ""
    return HttpResponse(f"Invoice {invoice.number} is void: it is no longer issued as an e-invoice.{cancelled_by}",
                        status=410, content_type="text/plain; charset=utf-8")


@login_required
@permission_required("billing.view_invoice", raise_exception=True)
def invoice_ubl(request: HttpRequest, pk: int) -> HttpResponse:
    """The issued invoice as a UBL 2.1 (Peppol BIS Billing 3.0) document."""
    invoice = _visible_invoice(request, pk)
    if invoice.status == Invoice.Status.DRAFT:
        raise Http404("A draft has no e-invoice.")
    if invoice.status == Invoice.Status.VOID:
        return _void_einvoice(invoice)
    response = HttpResponse(invoice_to_ubl(invoice), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.xml"'
    return response


@login_required
@permission_required("billing.view_invoice", raise_exception=True)
def invoice_cxml(request: HttpRequest, pk: int) -> HttpResponse:
    """The issued invoice as a cXML InvoiceDetailRequest (SAP Ariba, Coupa uploads)."""
    invoice = _visible_invoice(request, pk)
    if invoice.status == Invoice.Status.DRAFT:
        raise Http404("A draft has no e-invoice.")
    if invoice.status == Invoice.Status.VOID:
        return _void_einvoice(invoice)
    response = HttpResponse(invoice_to_cxml(invoice, **cxml_credentials(request, invoice.bill_to)),
                            content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.cxml.xml"'
    return response


def cxml_credentials(request: HttpRequest, bill_to: dict) -> dict[str, str]:
    """The sender identity, and the portal's shared secret from settings (the environment) for a
    user who posts documents to portals (billing.change_portalsubmission); nobody else gets it."""
    secret = ""
    if request.user.has_perm("billing.change_portalsubmission"):
        secret = settings.CXML_SHARED_SECRETS.get((bill_to or {}).get("procurement_portal") or "", "")
    return {"sender_identity": settings.CXML_SENDER_IDENTITY, "shared_secret": secret}
