"""Manual (one-off) invoices: the create form, editing a draft, and the customer search the
form's customer select uses (htmx)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from otc import errors
from otc.actions import apply_service_errors

from .. import services
from ..forms import ManualInvoiceForm, invoice_line_formset
from ..models import Invoice
from .invoices import visible_invoice


def _render_form(request: HttpRequest, form: ManualInvoiceForm, formset, invoice: Invoice | None) -> HttpResponse:
    form.limit_customer_options()
    return render(request, "billing/invoice_form.html", {"form": form, "formset": formset, "invoice": invoice})


def _save(request: HttpRequest, form: ManualInvoiceForm, formset, call) -> Invoice | None:
    """Validate the shape, call the service; its refusals land on the form. None when refused."""
    if not (form.is_valid() & formset.is_valid()):
        return None
    try:
        return call(form.service_data(), formset.service_data())
    except errors.ValidationFailed as exc:
        apply_service_errors(form, exc, line_forms=formset.kept_forms())
    except errors.PermissionDenied as exc:
        raise PermissionDenied(exc.message)
    except errors.DomainError as exc:
        form.add_error(None, exc.message)
    return None


@login_required
@permission_required("billing.add_invoice", raise_exception=True)
@require_http_methods(["GET", "POST"])
def invoice_create(request: HttpRequest) -> HttpResponse:
    """A manual draft invoice: header and lines through `invoice_create_manual`; then its page."""
    post = request.POST if request.method == "POST" else None
    initial = {"customer": request.GET.get("customer")} if request.GET.get("customer") else None
    form = ManualInvoiceForm(post, user=request.user, initial=initial)
    formset = invoice_line_formset(post)
    if post is not None:
        invoice = _save(request, form, formset, lambda data, lines: services.invoice_create_manual(
            data=data, lines=lines, by=request.user))
        if invoice is not None:
            messages.success(request, f"Draft invoice #{invoice.pk} created: check it, then issue it.")
            return redirect("billing:invoice_detail", pk=invoice.pk)
    return _render_form(request, form, formset, None)


@login_required
@permission_required("billing.change_invoice", raise_exception=True)
@require_http_methods(["GET", "POST"])
def invoice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft's header and lines through `invoice_update_draft` (drafts only)."""
    invoice = visible_invoice(request, pk)
    if invoice.status != Invoice.Status.DRAFT:
        messages.error(request, f"Invoice {invoice} is {invoice.get_status_display().lower()} and cannot be changed: "
                                "correct it with a credit note or void it.")
        return redirect("billing:invoice_detail", pk=invoice.pk)
    post = request.POST if request.method == "POST" else None
    form = ManualInvoiceForm(post, user=request.user, invoice=invoice, initial=ManualInvoiceForm.initial_from(invoice))
    lines = list(invoice.lines.select_related("tax_code").order_by("position"))
    formset = invoice_line_formset(post, lines=None if post is not None else lines)
    if post is not None:
        saved = _save(request, form, formset, lambda data, rows: services.invoice_update_draft(
            invoice_id=invoice.pk, data=data, lines=rows, by=request.user))
        if saved is not None:
            messages.success(request, f"Draft invoice #{invoice.pk} saved.")
            return redirect("billing:invoice_detail", pk=invoice.pk)
    return _render_form(request, form, formset, invoice)


@login_required
@permission_required("billing.add_invoice", raise_exception=True)
@require_GET
def customer_options(request: HttpRequest) -> HttpResponse:
    """The <option>s of the customer select for a search (htmx), among the visible customers."""
    form = ManualInvoiceForm(user=request.user, initial={"customer": request.GET.get("customer")})
    form.limit_customer_options((request.GET.get("customer_q") or "").strip())
    choices = form.fields["customer"].widget.choices
    return render(request, "billing/_customer_options.html", {"choices": choices[1:]})
