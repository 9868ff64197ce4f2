"""Legal entities, chart of accounts, periods (close / reopen) and FX rates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from otc import errors
from otc.history import history_rows
from otc.listing import sortable, sorted_page
from otc.models import StatusChange

from ..forms import FxRateForm, PeriodReopenForm
from ..models import Account, FxRate, LegalEntity, Period
from ..services import fx_rate_set
from ..services import period_close as close_service
from ..services import period_open as open_service
from ..services import period_reopen as reopen_service
from ..services.periods import open_horizon_months

LINKS = [
    ("Legal entities", "ledger:entity_list", "ledger.view_legalentity", "Entities, their charts of accounts and periods"),
    ("Journal entries", "ledger:journal_list", "ledger.view_journalentry", "Every posted entry, filterable"),
    ("New manual journal", "ledger:journal_new", "ledger.post_manual_journal", "A balanced adjustment, with a memo"),
    ("Trial balance", "ledger:trial_balance", "ledger.view_trial_balance", "Per account, in the functional currency"),
    ("AR reconciliation", "ledger:ar_reconciliation", "ledger.view_trial_balance",
     "AR control and unapplied cash against the sum of open items"),
    ("AR by customer", "ledger:ar_by_customer", "ledger.view_openitem", "Open and overdue balances per customer"),
    ("FX rates", "ledger:fx_rates", "ledger.view_fxrate", "Dated exchange rates"),
    ("GL export", "ledger:gl_export", "ledger.export_gl", "CSV of one entity's period for the general ledger"),
]


@login_required
@permission_required("ledger.view_legalentity", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    links = [link for link in LINKS if request.user.has_perm(link[2])]
    return render(request, "ledger/index.html", {"links": links})


@login_required
@permission_required("ledger.view_legalentity", raise_exception=True)
def entity_list(request: HttpRequest) -> HttpResponse:
    entities = LegalEntity.objects.annotate(
        account_count=Count("accounts", distinct=True),
        open_periods=Count("periods", filter=Q(periods__status=Period.Status.OPEN), distinct=True),
    )
    return sorted_page(request, ENTITY_SORTS, entities, "ledger/entity_list.html")


ENTITY_SORTS = sortable("ledger:entity_list", {
    "code": ("code",), "name": ("legal_name",), "country": ("country",), "currency": ("functional_currency",),
    "prefix": ("invoice_prefix",), "accounts": ("account_count",), "open_periods": ("open_periods",),
}, default="code")


@login_required
@permission_required("ledger.view_legalentity", raise_exception=True)
def entity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entity = get_object_or_404(LegalEntity, pk=pk)
    show_history = request.user.has_perm("otc.view_audit_trail")
    return render(request, "ledger/entity_detail.html", {
        "entity": entity, "show_history": show_history, "history": history_rows(entity) if show_history else [],
    })


@login_required
@permission_required("ledger.view_account", raise_exception=True)
def accounts(request: HttpRequest, pk: int) -> HttpResponse:
    entity = get_object_or_404(LegalEntity, pk=pk)
    rows = Account.objects.filter(legal_entity=entity)
    return sorted_page(request, ACCOUNT_SORTS, rows, "ledger/accounts.html", {"entity": entity}, page_size=100)


ACCOUNT_SORTS = sortable("ledger:accounts", {
    "code": ("code",), "name": ("name",), "type": ("type",), "role": ("role",), "active": ("is_active",),
}, default="code")


@login_required
@permission_required("ledger.view_period", raise_exception=True)
def periods(request: HttpRequest, pk: int) -> HttpResponse:
    entity = get_object_or_404(LegalEntity, pk=pk)
    rows = Period.objects.filter(legal_entity=entity).select_related("closed_by").annotate(entry_count=Count("entries"))
    return sorted_page(request, PERIOD_SORTS, rows, "ledger/periods.html", {
        "entity": entity, "can_manage": request.user.has_perm("ledger.manage_periods"),
        "reopen_form": PeriodReopenForm(), "horizon": open_horizon_months(),
    }, page_size=24, hydrate=_with_changes)


PERIOD_SORTS = sortable("ledger:periods", {
    "period": ("year", "month"), "status": ("status",), "entries": ("entry_count",), "closed": ("closed_at",),
}, default="-period")


def _with_changes(periods: list[Period]) -> list[Period]:
    """The periods with their status changes (one query for the page, or the export)."""
    changes = StatusChange.objects.filter(
        content_type=ContentType.objects.get_for_model(Period), object_id__in=[p.pk for p in periods],
    ).select_related("by").order_by("-at", "-id")
    by_period: dict[int, list[StatusChange]] = {}
    for change in changes:
        by_period.setdefault(change.object_id, []).append(change)
    for period in periods:
        period.changes = by_period.get(period.pk, [])
    return periods


@login_required
@permission_required("ledger.manage_periods", raise_exception=True)
@require_POST
def period_close(request: HttpRequest, pk: int) -> HttpResponse:
    period = get_object_or_404(Period.objects.select_related("legal_entity"), pk=pk)
    try:
        close_service(period_id=period.pk, by=request.user, note=request.POST.get("note", "")[:500])
    except errors.PermissionDenied as exc:
        raise PermissionDenied(exc.message)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Period {period.legal_entity.code} {period.label} closed.")
    return redirect("ledger:periods", pk=period.legal_entity_id)


@login_required
@permission_required("ledger.manage_periods", raise_exception=True)
@require_POST
def period_open(request: HttpRequest, pk: int) -> HttpResponse:
    """A Controller opens the entity's next month (never past the open horizon)."""
    entity = get_object_or_404(LegalEntity, pk=pk)
    try:
        period = open_service(legal_entity_id=entity.pk, by=request.user)
    except errors.PermissionDenied as exc:
        raise PermissionDenied(exc.message)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Period {entity.code} {period.label} opened.")
    return redirect("ledger:periods", pk=entity.pk)


@login_required
@permission_required("ledger.manage_periods", raise_exception=True)
@require_POST
def period_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    period = get_object_or_404(Period.objects.select_related("legal_entity"), pk=pk)
    form = PeriodReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Reopening a closed period needs a written reason.")
        return redirect("ledger:periods", pk=period.legal_entity_id)
    try:
        reopen_service(period_id=period.pk, by=request.user, note=form.cleaned_data["note"])
    except errors.PermissionDenied as exc:
        raise PermissionDenied(exc.message)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Period {period.legal_entity.code} {period.label} reopened.")
    return redirect("ledger:periods", pk=period.legal_entity_id)


@login_required
@permission_required("ledger.view_fxrate", raise_exception=True)
@require_http_methods(["GET", "POST"])
def fx_rates(request: HttpRequest) -> HttpResponse:
    can_add = request.user.has_perm("ledger.add_fxrate")
    form = FxRateForm(request.POST or None)
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied("Your role may not enter FX rates.")
        if form.is_valid():
            try:
                rate = fx_rate_set(by=request.user, source="manual", **form.cleaned_data)
            except errors.DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Saved {rate}.")
                return redirect("ledger:fx_rates")
    rows = FxRate.objects.all()
    pair = request.GET.get("pair", "").upper().replace("/", "")
    if len(pair) == 6:
        rows = rows.filter(from_currency=pair[:3], to_currency=pair[3:])
    return sorted_page(request, FX_SORTS, rows, "ledger/fx_rates.html", {"form": form, "can_add": can_add, "pair": pair})


FX_SORTS = sortable("ledger:fx_rates", {
    "date": ("date", "-from_currency", "-to_currency"), "from": ("from_currency", "to_currency", "-date"),
    "to": ("to_currency", "from_currency", "-date"), "rate": ("rate",), "source": ("source",),
}, default="-date")
