"""/collections/reserve/: reserve runs (prepare, the calculation sheet, approve, post, reverse,
PDF and XLSX), provision policies and specific reserves (Controller), the derivation table with
its Excel export, the allowance roll-forward and the back-test. Thin: services and selectors do
the work."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from collections_app.exports_reserve import XLSX, derivation_xlsx, run_sheet_context, sheet_xlsx
from collections_app.models import (
    ProvisionPolicy,
    ReserveMethod,
    ReserveRun,
    ReserveSegment,
    SpecificReason,
    SpecificReserve,
)
from collections_app.selectors.reserve_derivation import derive_rates
from collections_app.selectors.reserve_reports import allowance_rollforward, reserve_backtest
from collections_app.services import reserve as svc
from customers.models import Customer
from ledger.models import LegalEntity
from otc import dates
from otc.errors import DomainError
from otc.listing import sortable, sorted_page
from receivables.aging.engine import entity_buckets

VIEW = "collections_app.view_reserve"


def _date(value: str | None, default: dt.date | None = None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _last_month_end() -> dt.date:
    return dates.today().replace(day=1) - dt.timedelta(days=1)


def _entity(request: HttpRequest, entities) -> LegalEntity | None:
    pk = request.GET.get("entity") or request.POST.get("entity")
    chosen = next((e for e in entities if str(e.pk) == str(pk)), None)
    return chosen or (entities[0] if entities else None)


@login_required
@permission_required(VIEW, raise_exception=True)
def runs(request: HttpRequest) -> HttpResponse:
    return sorted_page(
        request, RESERVE_RUN_SORTS,
        ReserveRun.objects.select_related("legal_entity", "prepared_by", "approved_by", "journal_entry"),
        "collections_app/reserve/runs.html", {
            "entities": LegalEntity.objects.filter(is_active=True).order_by("code"),
            "as_of": _last_month_end(), "can_prepare": request.user.has_perm(svc.PREPARE)})


RESERVE_RUN_SORTS = sortable("collections_app:reserve_runs", {
    "as_of": ("as_of", "legal_entity__code"), "entity": ("legal_entity__code", "-as_of"), "status": ("status",),
    "required": ("functional_currency", "required_total"), "ledger": ("functional_currency", "ledger_balance"),
    "true_up": ("functional_currency", "adjustment"), "prepared_by": ("prepared_by__username",),
    "approved_by": ("approved_by__username",), "entry": ("journal_entry__number",),
}, default="-as_of")


@login_required
@permission_required(svc.PREPARE, raise_exception=True)
@require_POST
def run_prepare(request: HttpRequest) -> HttpResponse:
    as_of = _date(request.POST.get("as_of"))
    entity = LegalEntity.objects.filter(pk=request.POST.get("entity") or 0).first()
    if as_of is None or entity is None:
        messages.error(request, "Choose a legal entity and an as-of date.")
        return redirect("collections_app:reserve_runs")
    try:
        run = svc.reserve_run_prepare(legal_entity_id=entity.id, as_of=as_of, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("collections_app:reserve_runs")
    messages.success(request, f"Reserve of {entity.code} as of {as_of} prepared: true-up {run.adjustment:,.2f} "
                              f"{run.functional_currency}.")
    return redirect("collections_app:reserve_run", pk=run.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ReserveRun.objects.select_related("legal_entity", "policy", "snapshot", "journal_entry",
                                                              "reversal_entry", "prepared_by", "approved_by",
                                                              "posted_by"), pk=pk)
    user = request.user
    return render(request, "collections_app/reserve/run.html", {
        **run_sheet_context(run),
        "can_approve": run.status == "proposed" and user.has_perm(svc.APPROVE) and run.prepared_by_id != user.id,
        "own_run": run.prepared_by_id == user.id,
        "can_post": run.status == "approved" and user.has_perm(svc.POST),
        "can_reverse": run.status == "posted" and run.journal_entry_id and user.has_perm(svc.POST),
    })


def _transition(request: HttpRequest, pk: int, action) -> HttpResponse:
    try:
        run = action()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Reserve run {run.pk}: {run.get_status_display().lower()}.")
    return redirect("collections_app:reserve_run", pk=pk)


@login_required
@permission_required(svc.APPROVE, raise_exception=True)
@require_POST
def run_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, lambda: svc.reserve_run_approve(run_id=pk, by=request.user))


@login_required
@permission_required(svc.POST, raise_exception=True)
@require_POST
def run_post(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, lambda: svc.reserve_run_post(run_id=pk, by=request.user))


@login_required
@permission_required(svc.POST, raise_exception=True)
@require_POST
def run_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, lambda: svc.reserve_run_reverse(run_id=pk, by=request.user,
                                                                    reason=request.POST.get("reason", "")))


@login_required
@permission_required(VIEW, raise_exception=True)
def run_sheet(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    run = get_object_or_404(ReserveRun.objects.select_related("legal_entity", "policy", "snapshot", "journal_entry"),
                            pk=pk)
    name = f"reserve-{run.legal_entity.code}-{run.as_of.isoformat()}"
    if fmt == "pdf":
        from billing.views.documents import INCIDENT

        try:
            content = svc.reserve_run_sheet_pdf(run, generated_by=str(request.user))
        except svc.SheetIntegrityError:  # logged as an alert by the check; the bytes are never served
            return HttpResponse(INCIDENT, status=500, content_type="text/plain; charset=utf-8")
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    else:
        response = HttpResponse(sheet_xlsx(run), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


# --- policies and specific reserves ------------------------------------------------------------

def _percent(text: str | None) -> Decimal | None:
    text = (text or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        return Decimal(text) / 100
    except InvalidOperation:
        raise DomainError(f"'{text}' is not a percentage.") from None


@login_required
@permission_required(VIEW, raise_exception=True)
def policies(request: HttpRequest) -> HttpResponse:
    entities = list(LegalEntity.objects.filter(is_active=True).order_by("code"))
    entity = _entity(request, entities)
    buckets = entity_buckets([entity.id])[entity.id] if entity else ()
    rows = (ProvisionPolicy.objects.filter(legal_entity=entity).select_related("created_by").prefetch_related("rates")
            if entity else [])
    specifics = (SpecificReserve.objects.filter(legal_entity=entity).select_related("customer", "invoice", "created_by")
                 if entity else [])
    return render(request, "collections_app/reserve/policies.html", {
        "entities": entities, "entity": entity, "buckets": buckets, "policies": rows, "specifics": specifics,
        "methods": ReserveMethod.choices, "segments": ReserveSegment.choices, "reasons": SpecificReason.choices,
        "can_manage": request.user.has_perm(svc.MANAGE), "today": dates.today(),
    })


@login_required
@permission_required(svc.MANAGE, raise_exception=True)
@require_POST
def policy_create(request: HttpRequest) -> HttpResponse:
    post = request.POST
    entity = get_object_or_404(LegalEntity, pk=post.get("entity") or 0)
    back = redirect(f"{_url('collections_app:reserve_policies')}?entity={entity.pk}")
    try:
        rates = []
        for index in range(len(entity_buckets([entity.id])[entity.id])):
            rate, overlay = _percent(post.get(f"rate_{index}")), _percent(post.get(f"overlay_{index}"))
            if rate is not None or overlay:
                rates.append({"bucket": index, "rate": rate, "overlay": overlay or 0,
                              "overlay_reason": post.get(f"reason_{index}", "")})
        for number, line in enumerate((post.get("segment_rates") or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 3:
                raise DomainError(f"Segment rate line {number}: write 'segment, bucket number, rate %'.")
            rates.append({"segment": parts[0], "bucket": int(parts[1]), "rate": _percent(parts[2])})
        factor = Decimal(post.get("overlay_factor") or "1")
        svc.provision_policy_create(
            legal_entity_id=entity.id, effective_date=_date(post.get("effective_date")) or dates.today(),
            method=post.get("method", ""), segment_by=post.get("segment_by", ""),
            lookback_months=int(post.get("lookback_months") or 12), terminal_rate=_percent(post.get("terminal_rate")),
            overlay_factor=factor, overlay_reason=post.get("overlay_reason", ""), note=post.get("note", ""),
            rates=rates, by=request.user)
    except (DomainError, ValueError, InvalidOperation) as exc:
        messages.error(request, getattr(exc, "message", None) or f"Check the numbers: {exc}")
        return back
    messages.success(request, "Provision policy version saved.")
    return back


@login_required
@permission_required(svc.MANAGE, raise_exception=True)
@require_POST
def specific_create(request: HttpRequest) -> HttpResponse:
    post = request.POST
    entity = get_object_or_404(LegalEntity, pk=post.get("entity") or 0)
    back = redirect(f"{_url('collections_app:reserve_policies')}?entity={entity.pk}")
    customer = Customer.objects.filter(account_number=(post.get("customer") or "").strip()).first()
    if customer is None:
        messages.error(request, "Give the customer's account number.")
        return back
    invoice_id = None
    if (number := (post.get("invoice") or "").strip()):
        from billing.models import Invoice

        invoice_id = Invoice.objects.filter(legal_entity=entity, number=number).values_list("pk", flat=True).first()
        if invoice_id is None:
            messages.error(request, f"There is no invoice {number} in {entity.code}.")
            return back
    try:
        svc.specific_reserve_create(legal_entity_id=entity.id, customer_id=customer.id, invoice_id=invoice_id,
                                    percent=Decimal(post.get("percent") or "0"), reason=post.get("reason", ""),
                                    effective_from=_date(post.get("effective_from")) or dates.today(),
                                    note=post.get("note", ""), by=request.user)
    except (DomainError, InvalidOperation) as exc:
        messages.error(request, getattr(exc, "message", None) or "Check the percentage.")
        return back
    messages.success(request, "Specific reserve saved.")
    return back


@login_required
@permission_required(svc.MANAGE, raise_exception=True)
@require_POST
def specific_end(request: HttpRequest, pk: int) -> HttpResponse:
    spec = get_object_or_404(SpecificReserve, pk=pk)
    try:
        svc.specific_reserve_end(specific_id=pk, ended_on=_date(request.POST.get("ended_on")) or dates.today(),
                                 by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(f"{_url('collections_app:reserve_policies')}?entity={spec.legal_entity_id}")


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


# --- derivation, roll-forward, back-test -------------------------------------------------------

@login_required
@permission_required(VIEW, raise_exception=True)
def derivation(request: HttpRequest) -> HttpResponse:
    entities = list(LegalEntity.objects.filter(is_active=True).order_by("code"))
    entity = _entity(request, entities)
    as_of = _date(request.GET.get("as_of"), _last_month_end())
    method = request.GET.get("method") if request.GET.get("method") in ("roll_rate", "loss_rate") else "roll_rate"
    lookback = 24 if request.GET.get("lookback") == "24" else 12
    result, error = None, ""
    if entity:
        try:
            result = derive_rates(legal_entity_id=entity.id, as_of=as_of, method=method, lookback_months=lookback)
        except DomainError as exc:
            error = exc.message
    if result and request.GET.get("format") == "xlsx":
        response = HttpResponse(derivation_xlsx(result, entity.functional_currency), content_type=XLSX)
        response["Content-Disposition"] = (f'attachment; filename="derivation-{entity.code}-{as_of.isoformat()}-'
                                           f'{method}.xlsx"')
        return response
    return render(request, "collections_app/reserve/derivation.html", {
        "entities": entities, "entity": entity, "as_of": as_of, "method": method, "lookback": lookback,
        "d": result, "error": error, "query": request.GET.urlencode(),
    })


@login_required
@permission_required(VIEW, raise_exception=True)
def rollforward(request: HttpRequest) -> HttpResponse:
    entities = list(LegalEntity.objects.filter(is_active=True).order_by("code"))
    entity = _entity(request, entities)
    last = _date(request.GET.get("last"), _last_month_end())
    first = _date(request.GET.get("first"), (last.replace(day=1) - dt.timedelta(days=150)).replace(day=1))
    report, error = None, ""
    if entity:
        try:
            report = allowance_rollforward(legal_entity_id=entity.id, first=first, last=last)
        except DomainError as exc:
            error = exc.message
    backtest = reserve_backtest(legal_entity_id=entity.id) if entity else []
    return render(request, "collections_app/reserve/rollforward.html", {
        "entities": entities, "entity": entity, "first": first, "last": last, "report": report, "error": error,
        "backtest": backtest,
    })
