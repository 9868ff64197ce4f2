"""/collections/: the collector's worklist (filters, Excel, bulk reassign), the customer's
collections page (timeline, log an activity with a promise or a dispute, disputes and promises
worked, statement sent), and the manager's view. Thin: forms check shape, services decide."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from customers.models import Customer
from customers.selectors import customers_visible_to
from otc import dates
from otc.errors import DomainError
from otc.exports import sheet_append, workbook_bytes
from otc.listing import sortable, sorted_page

from .. import forms_worklist as forms
from ..selectors.timeline import customer_timeline
from ..selectors.worklist import BUCKETS, WorklistFilters, customer_summary, worklist
from ..services import activities, disputes, portfolio, promises

WORK = "collections_app.view_worklist"
MANAGE = "collections_app.manage_portfolio"
MANAGER_VIEW = "collections_app.view_collections_manager"
PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(request: HttpRequest, form: forms.WorklistFilterForm) -> WorklistFilters:
    data = form.cleaned_data if form.is_valid() else {}
    collector = data.get("collector") or ("me" if request.user.groups.filter(name="Collector").exists() else "all")
    if collector == "me":
        collector = str(request.user.pk)
    entity = data.get("legal_entity")
    return WorklistFilters(collector=collector, legal_entity_id=entity.pk if entity else None,
                           risk=data.get("risk") or "", search=data.get("q") or "", only=data.get("only") or "",
                           min_score=data.get("min_score"))


def _xlsx(rows: list) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Worklist"
    sheet_append(sheet, ["Score", "Customer", "Account", "Collector", "Risk", *[f"Overdue {b}" for b in BUCKETS],
                         "Overdue", "Open", "Disputed", "Promised", "Open disputes", "Open promises",
                         "Broken promises", "Last contact", "Outcome", "Next action", "Next action date", "Why"])
    for r in rows:
        sheet_append(sheet, [r.score, r.name, r.number, r.collector_name, r.risk, *r.buckets, r.overdue, r.open_total,
                             r.disputed, r.promised, r.disputes_open, r.promises_open, r.promises_broken,
                             r.last_contact_at.replace(tzinfo=None) if r.last_contact_at else None, r.last_outcome,
                             r.next_action, r.next_action_date, r.explanation])
    for column in range(6, 14):
        for cell in sheet.iter_cols(min_col=column, max_col=column, min_row=2):
            for c in cell:
                c.number_format = "#,##0.00"
    sheet.freeze_panes = "C2"
    return workbook_bytes(book)


@login_required
@permission_required(WORK, raise_exception=True)
def worklist_view(request: HttpRequest) -> HttpResponse:
    form = forms.WorklistFilterForm(request.GET or None)
    filters = _filters(request, form)
    rows = worklist(user=request.user, filters=filters)
    return sorted_page(request, WORKLIST_SORTS, rows, "collections_app/worklist/worklist.html", {
        "form": form, "buckets": BUCKETS, "filters": filters,
        "bucket_keys": [(f"bucket{i}", label) for i, label in enumerate(BUCKETS)],
        "collectors": forms.collectors(), "can_reassign": request.user.has_perm(MANAGE),
        "currency": rows[0].currency if rows else "", "count": len(rows),
    }, page_size=PAGE_SIZE, export=_xlsx_response)


def _xlsx_response(rows) -> HttpResponse:
    """The worklist's own workbook (scores, buckets and the score's explanation), in the page's order."""
    response = HttpResponse(_xlsx(rows), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="collections-worklist-{dates.today():%Y-%m-%d}.xlsx"'
    return response


def _bucket(index: int):
    return lambda row: row.buckets[index]


# The worklist is scored in Python (collections_app.selectors.worklist): its rows sort in Python,
# highest score first by default.
WORKLIST_SORTS = sortable("collections_app:worklist", {
    "score": lambda r: r.score, "customer": lambda r: r.name.lower(), "collector": lambda r: r.collector_name or None,
    **{f"bucket{i}": _bucket(i) for i in range(len(BUCKETS))}, "overdue": lambda r: r.overdue,
    "last_contact": lambda r: r.last_contact_at, "next_action": lambda r: r.next_action_date,
    "disputes": lambda r: r.disputed, "promises": lambda r: r.promised,
}, default="-score", export_param="format")


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def reassign_view(request: HttpRequest) -> HttpResponse:
    form = forms.ReassignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the customers and a collector.")
    else:
        try:
            n = portfolio.portfolio_reassign(by=request.user, customer_ids=[c.pk for c in form.cleaned_data["customers"]],
                                             collector_id=form.cleaned_data["collector"].pk,
                                             note=form.cleaned_data["note"])
            messages.success(request, f"{n} customer(s) reassigned to {form.cleaned_data['collector']}.")
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect(request.POST.get("next") or reverse("collections_app:worklist"))


# --- the customer's collections page ---------------------------------------------------------------

def _customer(request: HttpRequest, customer_id: int) -> Customer:
    customer = customers_visible_to(request.user).filter(pk=customer_id).first()
    if customer is None:
        raise Http404("No such customer.")
    return customer


def _open_invoices(summary: dict) -> list:
    return [row["invoice"] for row in summary["invoices"]]


@login_required
@permission_required(WORK, raise_exception=True)
def customer_view(request: HttpRequest, customer_id: int, *, activity_form=None, dispute_form=None,
                  plan_form=None) -> HttpResponse:
    customer = _customer(request, customer_id)
    summary = customer_summary(customer_id=customer.pk)
    invoices = _open_invoices(summary)
    from receivables.statements import statement_currencies

    statements = statement_currencies(customer_id=customer.pk)
    return render(request, "collections_app/worklist/customer.html", {
        "customer": customer, "summary": summary, "buckets": BUCKETS,
        "remind_entities": list(dict.fromkeys((entity_id, code) for entity_id, _, code in statements)),
        "timeline": customer_timeline(customer_id=customer.pk),
        "activity_form": activity_form or forms.ActivityForm(customer=customer, invoices=invoices),
        "dispute_form": dispute_form or forms.DisputeForm(invoices=invoices),
        "plan_form": plan_form or forms.PlanForm(invoices=invoices),
        "statement_options": statements,
        "can_dispute": request.user.has_perm(disputes.MANAGE), "can_promise": request.user.has_perm(promises.MANAGE),
        "today": dates.today(),
    }, status=400 if any(f is not None for f in (activity_form, dispute_form, plan_form)) else 200)


def _back(customer_id: int) -> HttpResponse:
    return redirect("collections_app:customer", customer_id=customer_id)


@login_required
@permission_required(WORK, raise_exception=True)
@require_POST
def activity_log_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    invoices = _open_invoices(customer_summary(customer_id=customer.pk))
    form = forms.ActivityForm(request.POST, customer=customer, invoices=invoices)
    if not form.is_valid():
        return customer_view(request, customer_id, activity_form=form)
    data = form.cleaned_data
    promise = None
    if data.get("promise_date"):
        promise = {"promised_date": data["promise_date"], "invoice_ids": data["promise_invoices"],
                   "amount": data.get("promise_amount")}
    try:
        activity = activities.activity_log(
            customer_id=customer.pk, by=request.user, kind=data["kind"], outcome=data["outcome"],
            note=data["note"], contact_id=data.get("contact"), next_action=data["next_action"],
            next_action_date=data.get("next_action_date"), promise=promise)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return customer_view(request, customer_id, activity_form=form)
    text = f"{activity.get_kind_display()} logged"
    if activity.promise_id:
        text += f", promise of {activity.promise.amount:,.2f} {activity.promise.currency} by {activity.promise.promised_date}"
    messages.success(request, text + ".")
    return _back(customer.pk)


@login_required
@permission_required(disputes.MANAGE, raise_exception=True)
@require_POST
def dispute_open_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    invoices = _open_invoices(customer_summary(customer_id=customer.pk))
    form = forms.DisputeForm(request.POST, invoices=invoices)
    if not form.is_valid():
        return customer_view(request, customer_id, dispute_form=form)
    data = form.cleaned_data
    try:
        dispute = disputes.dispute_open(invoice_id=data["invoice"], by=request.user, reason=data["reason"],
                                        amount=data.get("amount"), due_date=data.get("due_date"),
                                        description=data["description"])
    except DomainError as exc:
        form.add_error(None, exc.message)
        return customer_view(request, customer_id, dispute_form=form)
    messages.success(request, f"Dispute #{dispute.pk} opened on {dispute.invoice.number}.")
    return _back(customer.pk)


@login_required
@permission_required(disputes.MANAGE, raise_exception=True)
@require_POST
def dispute_action_view(request: HttpRequest, dispute_id: int, action: str) -> HttpResponse:
    from ..models import Dispute

    dispute = Dispute.objects.filter(pk=dispute_id, customer__in=customers_visible_to(request.user)).first()
    if dispute is None:
        raise Http404("No such dispute.")
    note = request.POST.get("note", "")
    try:
        if action == "start":
            disputes.dispute_start(dispute_id=dispute.pk, by=request.user, note=note)
            messages.success(request, f"Dispute #{dispute.pk} in progress.")
        elif action == "credit":
            amount = request.POST.get("amount") or None
            credit = disputes.dispute_resolve_by_credit_note(dispute_id=dispute.pk, by=request.user, explanation=note,
                                                             amount=Decimal(amount) if amount else None)
            messages.success(request, f"Credit note request #{credit.pk} sent to billing for approval; the dispute "
                                      "closes when it is issued.")
        elif action == "reject":
            disputes.dispute_reject(dispute_id=dispute.pk, by=request.user, note=note)
            messages.success(request, f"Dispute #{dispute.pk} rejected; its amount is chased again.")
        elif action == "withdraw":
            disputes.dispute_withdraw(dispute_id=dispute.pk, by=request.user, note=note)
            messages.success(request, f"Dispute #{dispute.pk} withdrawn.")
        else:
            raise Http404("No such action.")
    except (DomainError, ArithmeticError) as exc:
        messages.error(request, getattr(exc, "message", "Enter a valid amount."))
    return _back(dispute.customer_id)


@login_required
@permission_required(promises.MANAGE, raise_exception=True)
@require_POST
def promise_cancel_view(request: HttpRequest, promise_id: int) -> HttpResponse:
    from ..models import PromiseToPay

    promise = PromiseToPay.objects.filter(pk=promise_id, customer__in=customers_visible_to(request.user)).first()
    if promise is None:
        raise Http404("No such promise.")
    try:
        promises.promise_cancel(promise_id=promise.pk, by=request.user, note=request.POST.get("note", ""))
        messages.success(request, "Promise cancelled.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back(promise.customer_id)


@login_required
@permission_required(promises.MANAGE, raise_exception=True)
@require_POST
def plan_create_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    summary = customer_summary(customer_id=customer.pk)
    form = forms.PlanForm(request.POST, invoices=_open_invoices(summary))
    if not form.is_valid():
        return customer_view(request, customer_id, plan_form=form)
    data = form.cleaned_data
    chosen = [r for r in summary["invoices"] if r["invoice"].pk in data["invoices"]]
    total = data.get("total") or sum((r["collectible"] for r in chosen), Decimal(0))
    currency = chosen[0]["invoice"].currency if chosen else "EUR"
    from otc.money import quantize

    share = quantize(total / data["count"], currency)
    amounts = [share] * (data["count"] - 1) + [total - share * (data["count"] - 1)]
    schedule = [(data["first_date"] + dt.timedelta(days=data["every_days"] * i), a) for i, a in enumerate(amounts)]
    try:
        plan = promises.payment_plan_create(customer_id=customer.pk, by=request.user, invoice_ids=data["invoices"],
                                            instalments=schedule)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return customer_view(request, customer_id, plan_form=form)
    messages.success(request, f"Payment plan {plan[0].plan_reference}: {len(plan)} instalments.")
    return _back(customer.pk)


@login_required
@permission_required(WORK, raise_exception=True)
@require_POST
def statement_send_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    form = forms.StatementForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the statement's entity and currency.")
        return _back(customer.pk)
    try:
        sent = activities.statement_send(customer_id=customer.pk, by=request.user,
                                         legal_entity_id=form.cleaned_data["legal_entity"],
                                         currency=form.cleaned_data["currency"])
        messages.success(request, f"Statement sent to {', '.join(sent.recipients)}.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back(customer.pk)


# --- the manager's view ----------------------------------------------------------------------------

@login_required
@permission_required(MANAGER_VIEW, raise_exception=True)
def manager_view(request: HttpRequest) -> HttpResponse:
    from ..selectors.manager import manager_overview

    return render(request, "collections_app/worklist/manager.html", {
        **manager_overview(user=request.user), "rule_form": forms.RuleForm(),
        "can_manage": request.user.has_perm(MANAGE)})


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def rules_view(request: HttpRequest) -> HttpResponse:
    if request.POST.get("apply"):
        result = portfolio.portfolio_apply_rules(by=request.user)
        messages.success(request, f"Rules applied to {result['customers']} customers: {result['changed']} changed, "
                                  f"{result['unassigned']} without a matching rule.")
        return redirect("collections_app:manager")
    form = forms.RuleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            portfolio.assignment_rule_create(by=request.user, collector_id=data["collector"].pk,
                                             priority=data["priority"], country=data["country"], size=data["size"],
                                             legal_entity_id=data["legal_entity"].pk if data["legal_entity"] else None)
            messages.success(request, "Rule added; apply the rules to assign customers.")
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Check the rule's fields.")
    return redirect("collections_app:manager")
