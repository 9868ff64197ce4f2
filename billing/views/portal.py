"""The procurement-portal upload worklist: tasks by due date with age and overdue flags, filters,
per-row Mark uploaded / Accept / Reject / Resubmit, and the documents to upload."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST

from customers.selectors import customers_visible_to
from otc.actions import button_action, safe_next
from otc.listing import sortable, sorted_page

from .. import services
from ..forms import PortalFilterForm
from ..models import PortalSubmission
from ..selectors import portal_submissions_visible_to, portal_worklist, portal_worklist_counts

PAGE_SIZE = 50
CHANGE = "billing.change_portalsubmission"


@login_required
@permission_required("billing.view_portalsubmission", raise_exception=True)
def portal_worklist_view(request: HttpRequest) -> HttpResponse:
    """Upload tasks by due date (oldest first); without a status filter, every task not yet
    accepted. A fixed number of queries whatever the number of rows."""
    form = PortalFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = portal_worklist(status=data.get("status") or None, portal=data.get("portal") or None,
                           customer_search=(data.get("q") or "").strip() or None)
    rows = rows.filter(customer__in=customers_visible_to(request.user).values("pk"))
    if data.get("overdue"):
        rows = rows.filter(overdue=True)
    counts = portal_worklist_counts()
    rows = rows.annotate(document=Coalesce("invoice__number", "credit_note__number"),
                         gross=Coalesce("invoice__gross_total", "credit_note__gross_total"),
                         doc_currency=Coalesce("invoice__currency", "credit_note__currency"))
    return sorted_page(request, PORTAL_SORTS, rows, "billing/portal_worklist.html", {
        "filter_form": form, "here_url": request.get_full_path(),
        "counts": [(value, label, counts[value]) for value, label in PortalSubmission.Status.choices],
    }, page_size=PAGE_SIZE)


PORTAL_SORTS = sortable("billing:portal", {
    "document": ("document",), "customer": ("customer__legal_name",), "portal": ("portal",), "status": ("status",),
    "due": ("due_date",), "age": ("age_days",), "amount": ("doc_currency", "gross"), "reference": ("portal_reference",),
}, default="due")


def _portal_action(request: HttpRequest, pk: int, *, act, done) -> HttpResponse:
    """A row button: visibility (404), permission (403), one service call, back to the list."""
    submission = get_object_or_404(portal_submissions_visible_to(request.user), pk=pk)
    back = safe_next(request, reverse("billing:portal"))
    return button_action(request, permission=CHANGE, back=back, act=lambda: act(submission), done=done)


def _document(submission: PortalSubmission) -> str:
    return str(submission.invoice or submission.credit_note)


@login_required
@permission_required("billing.view_portalsubmission", raise_exception=True)
@require_POST
def portal_mark_uploaded_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _portal_action(
        request, pk,
        act=lambda sub: services.portal_submission_mark_uploaded(
            submission_id=sub.pk, by=request.user, portal_reference=request.POST.get("portal_reference", "")),
        done=lambda sub: f"{_document(sub)} marked uploaded to {sub.portal} (reference {sub.portal_reference}).",
    )


@login_required
@permission_required("billing.view_portalsubmission", raise_exception=True)
@require_POST
def portal_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _portal_action(
        request, pk,
        act=lambda sub: services.portal_submission_accept(submission_id=sub.pk, by=request.user),
        done=lambda sub: f"{_document(sub)} accepted by {sub.portal}.",
    )


@login_required
@permission_required("billing.view_portalsubmission", raise_exception=True)
@require_POST
def portal_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _portal_action(
        request, pk,
        act=lambda sub: services.portal_submission_reject(submission_id=sub.pk, by=request.user,
                                                          reason=request.POST.get("reason", "")),
        done=lambda sub: f"{_document(sub)} rejected by {sub.portal}: correct it and resubmit.",
    )


@login_required
@permission_required("billing.view_portalsubmission", raise_exception=True)
@require_POST
def portal_resubmit_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _portal_action(
        request, pk,
        act=lambda sub: services.portal_submission_resubmit(
            submission_id=sub.pk, by=request.user, portal_reference=request.POST.get("portal_reference", "")),
        done=lambda sub: f"{_document(sub)} resubmitted to {sub.portal} (reference {sub.portal_reference}).",
    )
