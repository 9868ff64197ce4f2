"""Credit notes: the request form (from an issued invoice), the list with filters, the detail page
with Approve / Reject / Issue, and the PDF and UBL downloads.

Buttons show only to who may act: Approve and Reject to holders of billing.approve_creditnote who
did not request the note (segregation of duties); Issue to holders of billing.issue_creditnote.
The services check all of it again; a refusal comes back as a message with nothing changed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ledger.selectors import list_totals
from otc import errors
from otc.actions import apply_service_errors, button_action, form_data
from otc.history import history_rows
from otc.listing import sortable, sorted_page
from otc.money import ZERO, format_amount

from .. import services
from ..einvoice import credit_note_to_cxml, credit_note_to_ubl
from ..forms import CreditNoteFilterForm, CreditNoteRequestForm, DecisionNoteForm
from ..models import CreditNote
from ..selectors import credit_notes_awaiting_approval, credit_notes_visible_to, invoice_lines_uncredited
from .documents import stored_pdf_response
from .invoices import CREDITABLE, cxml_credentials, visible_invoice

PAGE_SIZE = 50


def _visible_note(request: HttpRequest, pk: int) -> CreditNote:
    queryset = credit_notes_visible_to(request.user).select_related(
        "invoice", "customer", "legal_entity", "journal_entry", "requested_by", "decided_by", "issued_by")
    return get_object_or_404(queryset, pk=pk)


@login_required
@permission_required("billing.request_creditnote", raise_exception=True)
@require_http_methods(["GET", "POST"])
def credit_note_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Request a credit note on invoice `pk`: the whole invoice, chosen lines or an amount."""
    invoice = visible_invoice(request, pk)
    back = reverse("billing:invoice_detail", args=[invoice.pk])
    if invoice.status not in CREDITABLE:
        messages.error(request, f"Invoice {invoice} is {invoice.get_status_display().lower()}: only issued invoices "
                                "can be credited.")
        return redirect(back)
    lines = invoice_lines_uncredited(invoice)
    form = CreditNoteRequestForm(request.POST or None, invoice=invoice, lines=lines)
    if request.method == "POST" and form.is_valid():
        try:
            note = services.credit_note_request(invoice_id=invoice.pk, by=request.user, **form.service_kwargs())
        except errors.ValidationFailed as exc:
            apply_service_errors(form, exc)
        except errors.PermissionDenied as exc:
            raise PermissionDenied(exc.message)
        except errors.DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Credit note request #{note.pk} for {format_amount(note.gross_total, note.currency)} {note.currency}"
                                      " sent for approval.")
            return redirect("billing:credit_note_detail", pk=note.pk)
    remaining = sum((line.remaining_gross for line in lines), ZERO)
    return render(request, "billing/credit_note_request.html",
                  {"invoice": invoice, "form": form, "remaining": remaining})


@login_required
@permission_required("billing.view_creditnote", raise_exception=True)
def credit_note_list(request: HttpRequest) -> HttpResponse:
    """The credit notes the user may see, filtered and paged (a fixed number of queries)."""
    form = CreditNoteFilterForm(request.GET or None)
    queryset = credit_notes_visible_to(request.user)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("awaiting_me"):
            queryset = queryset.filter(pk__in=credit_notes_awaiting_approval(request.user).values("pk"))
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("legal_entity"):
            queryset = queryset.filter(legal_entity=data["legal_entity"])
        if data.get("reason"):
            queryset = queryset.filter(reason=data["reason"])
        if q := (data.get("q") or "").strip():
            queryset = queryset.filter(Q(number__icontains=q) | Q(invoice__number__icontains=q)
                                       | Q(customer__legal_name__icontains=q) | Q(customer__display_name__icontains=q)
                                       | Q(customer__account_number__icontains=q))
    queryset = queryset.select_related("customer", "legal_entity", "invoice", "requested_by")
    return sorted_page(request, CREDIT_NOTE_SORTS, queryset, "billing/credit_note_list.html", {"filter_form": form},
                       totals=lambda rows: list_totals(rows, gross="gross_total"), page_size=PAGE_SIZE)


CREDIT_NOTE_SORTS = sortable("billing:credit_notes", {
    "number": ("number",), "entity": ("legal_entity__code",), "customer": ("customer__legal_name",),
    "invoice": ("invoice__number",), "reason": ("reason",), "requested": ("requested_at",), "status": ("status",),
    "total": ("gross_total",),
}, default="-requested")


@login_required
@permission_required("billing.view_creditnote", raise_exception=True)
def credit_note_detail(request: HttpRequest, pk: int) -> HttpResponse:
    note = _visible_note(request, pk)
    user = request.user
    context = {
        "note": note,
        "lines": list(note.lines.select_related("tax_code").order_by("position")),
        "submissions": list(note.portal_submissions.all()),
        "can_decide": (note.status == CreditNote.Status.REQUESTED and note.requested_by_id != user.pk
                       and user.has_perm("billing.approve_creditnote")),
        "own_request": note.status == CreditNote.Status.REQUESTED and note.requested_by_id == user.pk,
        "can_issue": note.status == CreditNote.Status.APPROVED and user.has_perm("billing.issue_creditnote"),
        "history": history_rows(note) if user.has_perm("otc.view_audit_trail") else None,
    }
    return render(request, "billing/credit_note_detail.html", context)


def _note_action(request: HttpRequest, pk: int, *, permission: str, act, done) -> HttpResponse:
    note = _visible_note(request, pk)
    return button_action(request, permission=permission, back=reverse("billing:credit_note_detail", args=[note.pk]),
                         act=lambda: act(note), done=done)


@login_required
@permission_required("billing.view_creditnote", raise_exception=True)
@require_POST
def credit_note_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = DecisionNoteForm(request.POST)
    return _note_action(
        request, pk, permission="billing.approve_creditnote",
        act=lambda note: services.credit_note_approve(credit_note_id=note.pk, by=request.user,
                                                      note=form_data(form)["note"]),
        done=lambda note: f"Credit note request #{note.pk} approved: it can be issued now.",
    )


@login_required
@permission_required("billing.view_creditnote", raise_exception=True)
@require_POST
def credit_note_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = DecisionNoteForm(request.POST)
    return _note_action(
        request, pk, permission="billing.approve_creditnote",
        act=lambda note: services.credit_note_reject(credit_note_id=note.pk, by=request.user,
                                                     note=form_data(form)["note"]),
        done=lambda note: f"Credit note request #{note.pk} rejected.",
    )


@login_required
@permission_required("billing.view_creditnote", raise_exception=True)
@require_POST
def credit_note_issue_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _note_action(
        request, pk, permission="billing.issue_creditnote",
        act=lambda note: services.credit_note_issue(credit_note_id=note.pk, by=request.user),
        done=lambda note: f"Credit note {note.number} issued and posted.",
    )


@login_required
@permission_required("billing.view_creditnote", raise_exception=True)
def credit_note_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored PDF bytes exactly as issued, served only when they match their SHA-256 (500
    and a logged alert otherwise); rendered and stored now if its task has not run yet. 404
    before issue."""
    note = _visible_note(request, pk)
    if note.status != CreditNote.Status.ISSUED:
        raise Http404("Only an issued credit note has a PDF.")
    return stored_pdf_response(lambda: services.credit_note_pdf_download(credit_note_id=note.pk))


@login_required
@permission_required("billing.view_creditnote", raise_exception=True)
def credit_note_ubl(request: HttpRequest, pk: int) -> HttpResponse:
    """The issued credit note as a UBL 2.1 CreditNote (Peppol BIS Billing 3.0)."""
    note = _visible_note(request, pk)
    if note.status != CreditNote.Status.ISSUED:
        raise Http404("Only an issued credit note has an e-invoice.")
    response = HttpResponse(credit_note_to_ubl(note), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{note.number}.xml"'
    return response


@login_required
@permission_required("billing.view_creditnote", raise_exception=True)
def credit_note_cxml(request: HttpRequest, pk: int) -> HttpResponse:
    """The issued credit note as a cXML line-level credit memo (SAP Ariba, Coupa uploads)."""
    note = _visible_note(request, pk)
    if note.status != CreditNote.Status.ISSUED:
        raise Http404("Only an issued credit note has an e-invoice.")
    xml = credit_note_to_cxml(note, **cxml_credentials(request, note.invoice.bill_to))
    response = HttpResponse(xml, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{note.number}.cxml.xml"'
    return response


__all__ = ["credit_note_approve_view", "credit_note_cxml", "credit_note_detail", "credit_note_issue_view", "credit_note_list",
           "credit_note_pdf", "credit_note_reject_view", "credit_note_request_view", "credit_note_ubl"]
