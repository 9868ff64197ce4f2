"""Write-off pages under /collections/write-offs/: the list, the request form (a customer's open
AR items, a reason, an explanation, evidence), the detail with Approve / Reject / Post and
evidence, the small-balance batches with Propose / Submit / Approve / Reject / Post, and the
entity's write-off policy. Buttons show only to who may act; the services check everything
again and a refusal comes back as a message with nothing changed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from collections_app.models import (
    WriteOff,
    WriteOffAttachment,
    WriteOffBatch,
    WriteOffPolicy,
    WriteOffReason,
    WriteOffStatus,
)
from collections_app.selectors.writeoffs import (
    batch_totals,
    batches_list,
    live_write_off_item_ids,
    write_off_detail,
    write_offs_list,
)
from collections_app.services import writeoffs as services
from customers.models import Customer
from ledger.models import Account, LegalEntity, OpenItem
from ledger.selectors import list_totals
from otc import dates, errors
from otc.actions import button_action, require
from otc.forms import bootstrap_style
from otc.listing import sortable, sorted_page

PAGE_SIZE = 50
VIEW = "collections_app.view_writeoff"


class FilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *WriteOffStatus.choices])
    reason = forms.ChoiceField(required=False, choices=[("", "Any reason"), *WriteOffReason.choices])
    legal_entity = forms.ModelChoiceField(required=False, queryset=LegalEntity.objects.all(), empty_label="Any entity")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap_style(self, small=True)


class RequestForm(forms.Form):
    reason = forms.ChoiceField(choices=WriteOffReason.choices)
    explanation = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                  help_text="Why it is uncollectible (required unless a small balance)")
    evidence = forms.FileField(required=False, help_text="A court notice, the agency's letter... (10 MB at most)")
    items = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple, choices=[])
    submit = forms.BooleanField(required=False, initial=True, label="Send for approval now")

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(item.pk, item.document_number) for item in items]
        bootstrap_style(self)


class PolicyForm(forms.ModelForm):
    class Meta:
        model = WriteOffPolicy
        fields = ["use_allowance", "vat_relief", "recovery_mode", "second_approval_above", "small_balance_enabled",
                  "small_balance_max", "small_balance_min_age_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap_style(self)


def _write_off(pk: int) -> WriteOff:
    try:
        return write_off_detail(pk)
    except WriteOff.DoesNotExist:
        from django.http import Http404

        raise Http404("No such write-off.")


@login_required
@permission_required(VIEW, raise_exception=True)
def writeoff_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = write_offs_list(status=data.get("status") or "", reason=data.get("reason") or "",
                           legal_entity_id=data["legal_entity"].pk if data.get("legal_entity") else None)
    return sorted_page(request, WRITE_OFF_SORTS, rows, "collections_app/writeoffs/list.html", {"filter_form": form},
                       totals=lambda rows: list_totals(rows, gross="amount", open="recovered_amount"),
                       page_size=PAGE_SIZE)


WRITE_OFF_SORTS = sortable("collections_app:writeoffs-list", {
    "write_off": ("id",), "entity": ("legal_entity__code",), "customer": ("customer__legal_name",),
    "reason": ("reason",), "requested": ("requested_at",), "status": ("status",),
    "amount": ("currency", "amount"), "recovered": ("currency", "recovered_amount"),
}, default="-requested")


def _open_items(customer: Customer) -> list[OpenItem]:
    items = list(OpenItem.objects.filter(customer=customer, account__role=Account.Role.AR, open_amount__gt=0,
                                         original_amount__gt=0)
                 .select_related("legal_entity").order_by("legal_entity__code", "currency", "due_date", "pk"))
    taken = live_write_off_item_ids(open_item_ids=[i.pk for i in items])
    return [i for i in items if i.pk not in taken]


@login_required
@permission_required("collections_app.request_writeoff", raise_exception=True)
@require_http_methods(["GET", "POST"])
def writeoff_request_view(request: HttpRequest) -> HttpResponse:
    """Pick a customer (?customer=id or a search), tick their open items, give the reason."""
    customer = None
    if customer_id := (request.POST.get("customer") or request.GET.get("customer") or "").strip():
        customer = Customer.objects.filter(pk=int(customer_id) if customer_id.isdigit() else 0).first()
    query = (request.GET.get("q") or "").strip()
    matches = (list(Customer.objects.filter(legal_name__icontains=query).order_by("legal_name")[:20])
               if query and customer is None else [])
    items = _open_items(customer) if customer else []
    form = RequestForm(request.POST or None, request.FILES or None, items=items,
                       initial={"items": [int(i) for i in request.GET.getlist("item") if i.isdigit()]})
    if request.method == "POST" and customer and form.is_valid():
        data = form.cleaned_data
        try:
            write_off = services.writeoff_request(open_item_ids=data["items"], reason=data["reason"],
                                                  explanation=data["explanation"], by=request.user,
                                                  submit=data["submit"])
            if data.get("evidence"):
                upload = data["evidence"]
                services.writeoff_attach(write_off_id=write_off.pk, name=upload.name, content=upload.read(),
                                         by=request.user)
        except errors.PermissionDenied as exc:
            if type(exc) is errors.PermissionDenied:
                raise PermissionDenied(exc.message)
            form.add_error(None, exc.message)
        except errors.DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Write-off {write_off} for {write_off.amount:,.2f} {write_off.currency} "
                                      f"{'sent for approval' if write_off.status == 'submitted' else 'saved as a draft'}.")
            return redirect("collections_app:writeoffs-detail", pk=write_off.pk)
    return render(request, "collections_app/writeoffs/request.html", {
        "customer": customer, "items": items, "form": form, "query": query, "matches": matches,
        "checked": {int(i) for i in (request.POST.getlist("items") or request.GET.getlist("item")) if i.isdigit()}})


@login_required
@permission_required(VIEW, raise_exception=True)
def writeoff_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    write_off = _write_off(pk)
    user = request.user
    mine = write_off.requested_by_id == user.pk
    approved_by_me = any(a.approver_id == user.pk for a in write_off.approvals.all())
    in_batch = write_off.batch_id is not None
    context = {
        "wo": write_off,
        "can_decide": (not in_batch and write_off.status == WriteOffStatus.SUBMITTED and not mine and not approved_by_me
                       and user.has_perm("collections_app.approve_writeoff")),
        "can_reject_approved": (not in_batch and write_off.status == WriteOffStatus.APPROVED and not mine
                                and user.has_perm("collections_app.approve_writeoff")),
        "own_request": mine and write_off.status == WriteOffStatus.SUBMITTED,
        "can_submit": not in_batch and write_off.status == WriteOffStatus.DRAFT
        and user.has_perm("collections_app.request_writeoff"),
        "can_post": not in_batch and write_off.status == WriteOffStatus.APPROVED
        and user.has_perm("collections_app.post_writeoff"),
        "can_attach": write_off.status not in (WriteOffStatus.POSTED, WriteOffStatus.REJECTED)
        and user.has_perm("collections_app.request_writeoff"),
        "today": dates.today(),
    }
    return render(request, "collections_app/writeoffs/detail.html", context)


def _action(request: HttpRequest, pk: int, *, permission: str, act, done) -> HttpResponse:
    write_off = get_object_or_404(WriteOff, pk=pk)
    return button_action(request, permission=permission, back=reverse("collections_app:writeoffs-detail", args=[pk]),
                         act=lambda: act(write_off), done=done)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def writeoff_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    note = (request.POST.get("note") or "").strip()
    user = request.user
    if action == "approve":
        return _action(request, pk, permission="collections_app.approve_writeoff",
                       act=lambda w: services.writeoff_approve(write_off_id=w.pk, by=user, note=note),
                       done=lambda w: f"{w} approved." if w.status == "approved"
                       else f"{w} approved at your level: it needs another approver.")
    if action == "reject":
        return _action(request, pk, permission="collections_app.approve_writeoff",
                       act=lambda w: services.writeoff_reject(write_off_id=w.pk, by=user, note=note),
                       done=lambda w: f"{w} rejected.")
    if action == "submit":
        return _action(request, pk, permission="collections_app.request_writeoff",
                       act=lambda w: services.writeoff_submit(write_off_id=w.pk, by=user),
                       done=lambda w: f"{w} sent for approval.")
    if action == "post":
        return _action(request, pk, permission="collections_app.post_writeoff",
                       act=lambda w: services.writeoff_post(write_off_id=w.pk, by=user),
                       done=lambda w: f"{w} posted ({w.journal_entry.number}).")
    if action == "attach":
        upload = request.FILES.get("file")
        return _action(request, pk, permission="collections_app.request_writeoff",
                       act=lambda w: services.writeoff_attach(write_off_id=w.pk, name=upload.name if upload else "",
                                                             content=upload.read() if upload else b"", by=user),
                       done=lambda a: f"Evidence {a.name} added.")
    from django.http import Http404

    raise Http404("Unknown action.")


@login_required
@permission_required(VIEW, raise_exception=True)
def writeoff_attachment(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    attachment = get_object_or_404(WriteOffAttachment, pk=attachment_id, write_off_id=pk)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


# --- small-balance batches -------------------------------------------------------------------------

@login_required
@permission_required(VIEW, raise_exception=True)
def batch_list(request: HttpRequest) -> HttpResponse:
    entities = LegalEntity.objects.filter(write_off_policy__small_balance_enabled=True).order_by("code")
    return sorted_page(request, BATCH_SORTS, batches_list(), "collections_app/writeoffs/batches.html", {
        "entities": entities, "policy_entities": LegalEntity.objects.filter(is_active=True).order_by("code")},
        page_size=PAGE_SIZE)


BATCH_SORTS = sortable("collections_app:writeoffs-batches", {
    "month": ("month", "legal_entity__code"), "entity": ("legal_entity__code", "-month"), "proposed": ("created_at",),
    "status": ("status",), "decided": ("decided_at",),
}, default="-month")


@login_required
@permission_required("collections_app.request_writeoff", raise_exception=True)
@require_POST
def batch_propose(request: HttpRequest) -> HttpResponse:
    entity = get_object_or_404(LegalEntity, pk=request.POST.get("legal_entity") or 0)
    back = reverse("collections_app:writeoffs-batches")
    try:
        batch = services.small_balance_batch_propose(legal_entity_id=entity.pk, by=request.user)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if batch is None:
        messages.info(request, f"No small balances qualify in {entity.code} today.")
        return redirect(back)
    messages.success(request, f"Small-balance batch for {batch.month:%Y-%m} in {entity.code}.")
    return redirect("collections_app:writeoffs-batch", pk=batch.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(batches_list(), pk=pk)
    user = request.user
    involved = user.pk in (batch.proposed_by_id, batch.submitted_by_id)
    return render(request, "collections_app/writeoffs/batch.html", {
        "batch": batch, "totals": batch_totals(batch),
        "write_offs": batch.write_offs.select_related("customer").prefetch_related("lines").order_by("pk"),
        "can_submit": batch.status == "draft" and user.has_perm("collections_app.request_writeoff"),
        "can_decide": batch.status == "submitted" and not involved and user.has_perm("collections_app.approve_writeoff"),
        "involved": involved and batch.status == "submitted",
        "can_post": batch.status == "approved" and user.has_perm("collections_app.post_writeoff"),
    })


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def batch_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    get_object_or_404(WriteOffBatch, pk=pk)
    note, user = (request.POST.get("note") or "").strip(), request.user
    acts = {
        "submit": ("collections_app.request_writeoff", lambda: services.batch_submit(batch_id=pk, by=user), "submitted"),
        "approve": ("collections_app.approve_writeoff", lambda: services.batch_approve(batch_id=pk, by=user, note=note),
                    "approved"),
        "reject": ("collections_app.approve_writeoff", lambda: services.batch_reject(batch_id=pk, by=user, note=note),
                   "rejected"),
        "post": ("collections_app.post_writeoff", lambda: services.batch_post(batch_id=pk, by=user), "posted"),
    }
    if action not in acts:
        from django.http import Http404

        raise Http404("Unknown action.")
    permission, act, word = acts[action]
    return button_action(request, permission=permission, back=reverse("collections_app:writeoffs-batch", args=[pk]),
                         act=act, done=lambda b: f"Batch {b.month:%Y-%m} {word}.")


@login_required
@permission_required("collections_app.manage_writeoff_policy", raise_exception=True)
@require_http_methods(["GET", "POST"])
def policy_view(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = get_object_or_404(LegalEntity, pk=entity_id)
    policy = services.policy_for(entity.pk)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        require(request, "collections_app.manage_writeoff_policy")
        try:
            services.writeoff_policy_save(legal_entity_id=entity.pk, data=form.cleaned_data, by=request.user)
        except errors.DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Write-off policy of {entity.code} saved.")
            return redirect("collections_app:writeoffs-batches")
    return render(request, "collections_app/writeoffs/policy.html", {"entity": entity, "form": form})
