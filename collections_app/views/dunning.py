"""Dunning pages under /collections/dunning/: runs (start, progress bar, refusal, preview and
send), letters (items with the reason any invoice was left out, the PDF), policies and the
customers kept out of dunning. Every page reads a fixed number of queries (paged lists)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from collections_app.forms_dunning import ExclusionForm, LevelFormSet, PolicyForm, RunStartForm
from collections_app.models import DunningExclusion, DunningLetter, DunningPolicy, DunningRun, DunningSkip
from collections_app.services import dunning as services
from collections_app.services.dunning_letters import (
    LetterIntegrityError,
    letter_render_pdf,
    verified_letter_pdf,
)
from ledger.models import LegalEntity
from otc import errors
from otc.actions import domain_error_response
from otc.listing import sortable, sorted_page

VIEW_RUN = "collections_app.view_dunningrun"
RUN = "collections_app.run_dunning"


@login_required
@permission_required(VIEW_RUN, raise_exception=True)
def dunning_home(request: HttpRequest) -> HttpResponse:
    runs = DunningRun.objects.select_related("legal_entity", "started_by")
    policies = (LegalEntity.objects.filter(is_active=True).select_related("dunning_policy")
                .annotate(levels=Count("dunning_policy__levels")))
    exclusions = (DunningExclusion.objects.filter(lifted_at__isnull=True)
                  .select_related("customer", "invoice", "created_by").order_by("-created_at")[:50])
    return sorted_page(request, DUNNING_RUN_SORTS, runs, "collections_app/dunning/home.html", {
        "start_form": RunStartForm(), "exclusions": exclusions,
        "exclusion_form": ExclusionForm()}, page_size=25, also={"policies": (POLICY_SORTS, policies)})


DUNNING_RUN_SORTS = sortable("collections_app:dunning", {
    "run": ("id",), "date": ("run_date",), "entity": ("legal_entity__code",), "status": ("status",),
    "customers": ("customers_total",), "letters": ("letters_created",), "sent": ("letters_sent",),
    "skipped": ("customers_skipped",), "started": ("started_at",),
}, default="-started")
POLICY_SORTS = sortable("collections_app:dunning", {
    "entity": ("code",), "language": ("dunning_policy__language",), "levels": ("levels",),
    "preview": ("dunning_policy__preview_required",), "max_age": ("dunning_policy__statement_max_age_days",),
}, default="entity", table="policies", param="policy_sort", page_param="policy_page", export_param="policy_export")


@login_required
@require_POST
def dunning_run_start_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(RUN):
        raise PermissionDenied("Your role may not start dunning runs.")
    form = RunStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a legal entity with an active dunning policy.")
        return redirect("collections_app:dunning")
    try:
        customer = form.cleaned_data.get("customer")
        run = services.dunning_run_start(legal_entity_id=form.cleaned_data["legal_entity"].pk, by=request.user,
                                         background=True, customer_ids=[customer] if customer else None)
    except errors.DomainError as exc:
        return domain_error_response(request, exc, reverse("collections_app:dunning"))
    if run.status == DunningRun.Status.REFUSED:
        messages.error(request, run.refusal)
    else:
        messages.success(request, f"{run} started: {run.customers_total} customer(s) with something overdue.")
    return redirect("collections_app:dunning_run", pk=run.pk)


def _progress(run: DunningRun) -> dict:
    percent = int(run.customers_done * 100 / run.customers_total) if run.customers_total else 100
    return {"run": run, "percent": percent, "active": run.status == DunningRun.Status.RUNNING}


@login_required
@permission_required(VIEW_RUN, raise_exception=True)
def dunning_run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(DunningRun.objects.select_related("legal_entity", "started_by", "sent_by"), pk=pk)
    letters = (DunningLetter.objects.filter(run=run).select_related("customer", "escalate_to")
               .annotate(claimed=Count("items", filter=Q(items__included=True)),
                         left_out=Count("items", filter=Q(items__included=False)))
               .order_by("-level", "customer__legal_name", "id"))
    skips = DunningSkip.objects.filter(run=run).select_related("customer").order_by("code", "id")
    by_level = (DunningLetter.objects.filter(run=run).exclude(status=DunningLetter.Status.CANCELLED)
                .values("level").annotate(n=Count("id")).order_by("level"))
    return render(request, "collections_app/dunning/run_detail.html", {
        **_progress(run), "letters_page": Paginator(letters, 50).get_page(request.GET.get("page")),
        "skips_page": Paginator(skips, 50).get_page(request.GET.get("skips_page")), "by_level": by_level,
        "can_send": run.status == DunningRun.Status.PREVIEW and request.user.has_perm(RUN)})


@login_required
@permission_required(VIEW_RUN, raise_exception=True)
def dunning_run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(DunningRun, pk=pk)
    return render(request, "collections_app/dunning/_run_progress.html", _progress(run))


@login_required
@require_POST
def dunning_run_send_view(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse("collections_app:dunning_run", args=[pk])
    try:
        run = services.dunning_run_send(run_id=pk, by=request.user)
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, f"{run}: {run.letters_sent} letter(s) sent; their PDFs and e-mails follow.")
    return redirect(back)


@login_required
@permission_required("collections_app.view_dunningletter", raise_exception=True)
def dunning_letter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    letter = get_object_or_404(DunningLetter.objects.select_related("customer", "legal_entity", "run", "escalate_to"),
                               pk=pk)
    items = letter.items.select_related("invoice").order_by("-included", "due_date", "id")
    return render(request, "collections_app/dunning/letter_detail.html", {
        "letter": letter, "items": items,
        "totals": [{"currency": cur, **row} for cur, row in sorted(letter.totals.items()) if not cur.startswith("_")],
        "compensation": letter.totals.get("_compensation")})


@login_required
@permission_required("collections_app.view_dunningletter", raise_exception=True)
def dunning_letter_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """A sent letter: its stored PDF, checked against its SHA-256. A draft: a preview, not stored."""
    letter = get_object_or_404(DunningLetter, pk=pk)
    if letter.status == DunningLetter.Status.SENT:
        if not letter.pdf_sha256:
            from collections_app.services.dunning_letters import dunning_letter_store_pdf

            letter = dunning_letter_store_pdf(letter_id=letter.pk)
        try:
            content = verified_letter_pdf(letter)
        except LetterIntegrityError as exc:
            raise Http404(str(exc)) from exc
    else:
        content = letter_render_pdf(letter)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="reminder-{letter.pk}.pdf"'
    return response


@login_required
@require_POST
def dunning_letter_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    letter = get_object_or_404(DunningLetter, pk=pk)
    back = reverse("collections_app:dunning_run", args=[letter.run_id])
    try:
        services.dunning_letter_cancel(letter_id=pk, by=request.user)
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, "The letter was taken out of the run; it will not be sent.")
    return redirect(back)


@login_required
@permission_required("collections_app.view_dunningpolicy", raise_exception=True)
def dunning_policy_edit(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = get_object_or_404(LegalEntity, pk=entity_id)
    policy = DunningPolicy.objects.filter(legal_entity=entity).first()
    may_edit = request.user.has_perm("collections_app.manage_dunning_policy")
    initial_levels = [{"number": lvl.number, "days_after_due": lvl.days_after_due, "template": lvl.template,
                       "channel": lvl.channel, "escalate": lvl.escalate, "charge_fee": lvl.charge_fee,
                       "charge_interest": lvl.charge_interest} for lvl in (policy.levels.all() if policy else [])]
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Your role may not set dunning policies.")
        form = PolicyForm(request.POST, instance=policy or DunningPolicy(legal_entity=entity))
        levels = LevelFormSet(request.POST, prefix="levels")
        if form.is_valid() and levels.is_valid():
            rows = [f.cleaned_data for f in levels.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            try:
                services.dunning_policy_save(legal_entity_id=entity.pk, by=request.user, data=form.cleaned_data,
                                             levels=rows)
            except errors.DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Dunning policy of {entity.code} saved.")
                return redirect("collections_app:dunning")
    else:
        form = PolicyForm(instance=policy)
        levels = LevelFormSet(prefix="levels", initial=initial_levels)
    return render(request, "collections_app/dunning/policy_form.html",
                  {"entity": entity, "form": form, "levels": levels, "may_edit": may_edit})


@login_required
@require_POST
def dunning_exclusion_add(request: HttpRequest) -> HttpResponse:
    back = reverse("collections_app:dunning")
    form = ExclusionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return redirect(back)
    customer, number = form.cleaned_data["customer"], form.cleaned_data["invoice_number"].strip()
    invoice_id = None
    if number:
        from billing.models import Invoice

        invoice_id = Invoice.objects.filter(customer=customer, number=number).values_list("pk", flat=True).first()
        if invoice_id is None:
            messages.error(request, f"{customer.name} has no invoice {number}.")
            return redirect(back)
    try:
        services.dunning_exclusion_set(customer_id=customer.pk, invoice_id=invoice_id, by=request.user,
                                       reason=form.cleaned_data["reason"], until=form.cleaned_data["until"])
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, f"{customer.name}{' ' + number if number else ''} kept out of dunning.")
    return redirect(back)


@login_required
@require_POST
def dunning_exclusion_lift_view(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse("collections_app:dunning")
    try:
        services.dunning_exclusion_lift(exclusion_id=pk, by=request.user)
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, "Exclusion lifted: the customer is dunned again from the next run.")
    return redirect(back)
