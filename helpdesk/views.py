"""Help desk: thin HTML views. Visibility first (a ticket the user may not see is a 404, through
any page, search or attachment), then one service call per POST."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.models import Invoice
from billing.selectors import invoices_visible_to
from ledger.selectors import list_totals
from otc import dates, errors
from otc.actions import apply_service_errors, button_action
from otc.api.errors import json_error
from otc.listing import sortable, sorted_page
from otc.registry import registry, render_panels

from . import conf, services
from .forms import (
    CATEGORY_HELP,
    CommentForm,
    CreditRequestForm,
    FilterForm,
    LinkForm,
    TicketForm,
    canned_replies,
)
from .models import Attachment, Category, DataChangeRequest, MailMessage, Priority, Ticket
from .notify import RATE_SALT
from .selectors import (
    can_see_ticket,
    is_agent,
    metrics,
    queue_counts,
    self_service_answer,
    ticket_list,
    ticket_page,
    ticket_thread,
    tickets_by_ids,
)
from .services.tickets import sla_result
from .sla import humanize, humanize_business

PAGE_SIZE = 50
AR_PANELS = ("ledger-balance", "receivables-cash")


def _ticket(request: HttpRequest, reference: str) -> Ticket:
    ticket = ticket_page(user=request.user, reference=reference)
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def _files(request: HttpRequest, name: str = "attachment") -> list[services.AttachmentIn]:
    return [services.AttachmentIn(f.name, f.read(), f.content_type or "") for f in request.FILES.getlist(name)]


# --- lists ------------------------------------------------------------------------------------------

@login_required
@permission_required("helpdesk.view_ticket", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    """Agents: the queues they work. Reps: their tickets. The auditor: every ticket."""
    form = FilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    queue_id = request.GET.get("queue")
    rows = ticket_list(user=request.user, scope=data.get("scope", ""), status=data.get("status", ""),
                       category=data.get("category", ""), search=(data.get("q") or "").strip(),
                       queue_id=int(queue_id) if queue_id and queue_id.isdigit() else None)
    agent = is_agent(request.user)
    # sorted and paged on the narrow ticket rows, then only the page's tickets are joined
    return sorted_page(request, TICKET_SORTS, rows.annotate(priority_rank=PRIORITY_RANK).values_list("pk", flat=True),
                       "helpdesk/index.html", {
        "filter_form": form, "agent": agent,
        "queues": queue_counts(request.user) if agent or request.user.has_perm("helpdesk.view_all_tickets") else [],
        "title": "My queue" if agent else ("All tickets" if request.user.has_perm("helpdesk.view_all_tickets")
                                           else "My tickets"),
    }, page_size=PAGE_SIZE, hydrate=tickets_by_ids,
        totals=lambda _pks: list_totals(rows.filter(amount__isnull=False), gross="amount"))


PRIORITY_RANK = Case(*(When(priority=value, then=Value(rank)) for rank, value in enumerate(Priority.values)),
                     default=Value(-1), output_field=IntegerField())
TICKET_SORTS = sortable("helpdesk:index", {
    "ticket": ("reference",), "subject": ("subject",), "customer": ("customer__legal_name",),
    "category": ("category",), "priority": ("priority_rank",), "status": ("status",), "sla": ("sla_state",),
    "due": ("resolution_due",), "queue": ("queue__legal_entity__code", "queue__kind"), "assignee": ("assignee__username",),
    "filed": ("created_at",), "amount": ("currency", "amount"),
}, default="due")


# --- filing ---------------------------------------------------------------------------------------

@login_required
@permission_required("helpdesk.file_ticket", raise_exception=True)
def new(request: HttpRequest) -> HttpResponse:
    return render(request, "helpdesk/new.html", {"categories": [(c, label, CATEGORY_HELP[c]) for c, label in
                                                                 Category.choices]})


@login_required
@permission_required("helpdesk.file_ticket", raise_exception=True)
@require_http_methods(["GET", "POST"])
def new_category(request: HttpRequest, category: str) -> HttpResponse:
    if category not in Category.values:
        raise Http404("No such category.")
    initial = {"invoice": request.GET.get("invoice"), "customer": request.GET.get("customer")}
    form = TicketForm(request.POST or None, request.FILES or None, user=request.user, category=category,
                      initial={k: v for k, v in initial.items() if v})
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_file(by=request.user, attachments=_files(request), **form.service_kwargs())
        except errors.ValidationFailed as exc:
            apply_service_errors(form, exc)
        except errors.PermissionDenied as exc:
            raise PermissionDenied(exc.message)
        else:
            messages.success(request, f"Ticket {ticket.reference} filed: the {ticket.queue} queue has it.")
            return redirect(ticket)
    return render(request, "helpdesk/ticket_form.html", {
        "form": form, "category": category, "category_label": Category(category).label,
        "help": CATEGORY_HELP[category], "self_service": category in (Category.PAYMENT_STATUS, Category.INVOICE_COPY),
    })


@login_required
@permission_required("helpdesk.file_ticket", raise_exception=True)
@require_GET
def self_service(request: HttpRequest, category: str) -> HttpResponse:
    """htmx: the answer the books already give for the chosen invoice (payment status, invoice copy)."""
    pk = request.GET.get("invoice", "")
    invoice = invoices_visible_to(request.user).exclude(status=Invoice.Status.DRAFT).filter(
        pk=int(pk)).first() if pk.isdigit() else None
    answer = self_service_answer(category, invoice) if invoice else None
    return render(request, "helpdesk/_self_service.html", {"answer": answer, "invoice": invoice})


# --- the ticket page --------------------------------------------------------------------------------

def _sla_box(ticket: Ticket) -> dict[str, Any]:
    result, warn = sla_result(ticket)
    out = {}
    for name, clock in (("First response", result.first_response), ("Resolution", result.resolution)):
        out[name] = {"target": humanize_business(clock.target_minutes * 60) if clock.target_minutes is not None else "—",
                     "business": humanize_business(clock.business_seconds), "clock": humanize(clock.clock_seconds),
                     "due": clock.due, "met": clock.met, "running": clock.running, "breached": clock.breached}
    return {"clocks": out, "paused": result.paused}


@login_required
@permission_required("helpdesk.view_ticket", raise_exception=True)
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    agent = is_agent(request.user)
    panels = []
    if agent and ticket.customer_id:
        panels = render_panels(request, [p for p in registry.customer if p.key in AR_PANELS], customer=ticket.customer)
    data_change = DataChangeRequest.objects.filter(ticket=ticket).select_related("decided_by").first()
    return render(request, "helpdesk/ticket.html", {
        "ticket": ticket, "agent": agent, "thread": ticket_thread(ticket, request.user),
        "attachments": [a for a in ticket.attachments.all() if a.comment_id is None],
        "events": ticket.events.select_related("by").order_by("at", "id") if agent or
        request.user.has_perm("helpdesk.view_all_tickets") else [],
        "sla": _sla_box(ticket), "panels": panels, "comment_form": CommentForm(),
        "credit_form": CreditRequestForm(initial={"reason": ticket.details.get("credit_reason")}),
        "link_form": LinkForm(), "canned": canned_replies(ticket, request.user) if agent else [],
        "statuses": [(s, Ticket.Status(s).label) for s in Ticket.TRANSITIONS.get(ticket.status, ())],
        "status_labels": dict(Ticket.Status.choices), "priorities": Priority.choices,
        "members": ticket.queue.members.order_by("username") if agent else [],
        "watchers": list(ticket.watchers.all()), "watching": ticket.watchers.filter(pk=request.user.pk).exists(),
        "links": list(ticket.links_out.select_related("to_ticket")) + list(ticket.links_in.select_related("from_ticket")),
        "data_change": data_change, "is_requester": ticket.requester_id == request.user.pk,
        "dispute_pending": ticket.category == Category.DISPUTE,
    })


def _back(ticket: Ticket) -> str:
    return reverse("helpdesk:ticket", args=[ticket.reference])


@login_required
@require_POST
def comment(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = CommentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Write a reply.")
        return redirect(_back(ticket))
    internal = bool(form.cleaned_data["internal"])
    return button_action(
        request, permission="helpdesk.view_ticket", back=_back(ticket),
        act=lambda: services.ticket_comment(ticket_id=ticket.pk, by=request.user, body=form.cleaned_data["body"],
                                            internal=internal, attachments=_files(request)),
        done=lambda c: "Internal note added." if internal else "Reply sent.")


@login_required
@require_POST
def act(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """The agent's buttons: status, priority, assign, pick, watch, link/merge and the one-click actions."""
    ticket = _ticket(request, reference)
    by, post = request.user, request.POST
    calls = {
        "status": lambda: services.ticket_transition(ticket_id=ticket.pk, by=by, to=post.get("to", ""),
                                                     note=post.get("note", "")),
        "priority": lambda: services.ticket_set_priority(ticket_id=ticket.pk, by=by, priority=post.get("priority", "")),
        "assign": lambda: services.ticket_assign(ticket_id=ticket.pk, by=by,
                                                 assignee_id=int(post["assignee"]) if post.get("assignee", "").isdigit() else None),
        "pick": lambda: services.ticket_pick(ticket_id=ticket.pk, by=by),
        "watch": lambda: services.ticket_watch(ticket_id=ticket.pk, by=by, watch=post.get("watch") != "0"),
        "link": lambda: (services.ticket_merge(ticket_id=ticket.pk, by=by, into_reference=post.get("reference", ""))
                         if post.get("kind") == "merge" else
                         services.ticket_link(ticket_id=ticket.pk, by=by, reference=post.get("reference", ""),
                                              kind=post.get("kind", "related"))),
        "send_invoice_copy": lambda: services.action_send_invoice_copy(ticket_id=ticket.pk, by=by),
        "payment_status": lambda: services.action_payment_status(ticket_id=ticket.pk, by=by),
        "portal_resend": lambda: services.action_portal_resend(ticket_id=ticket.pk, by=by),
        "credit_request": lambda: _credit(ticket, by, post),
        "rate": lambda: services.ticket_rate(ticket_id=ticket.pk, by=by, score=int(post.get("score", "0") or 0)),
    }
    if action not in calls:
        raise Http404("No such action.")
    done = {"send_invoice_copy": "Invoice copy sent and the ticket resolved.",
            "payment_status": "Payment status answered and the ticket resolved.",
            "credit_request": "Credit note requested; the ticket follows its approval.",
            "portal_resend": "Portal upload queued and answered.", "rate": "Thank you for rating."}
    return button_action(request, permission="helpdesk.view_ticket", back=_back(ticket), act=calls[action],
                         done=lambda _: done.get(action, "Done."))


def _credit(ticket: Ticket, by, post) -> Any:
    form = CreditRequestForm(post)
    if not form.is_valid():
        raise errors.ValidationFailed("Choose a reason and a valid amount.")
    return services.action_credit_request(ticket_id=ticket.pk, by=by, reason=form.cleaned_data["reason"],
                                          amount=form.cleaned_data.get("amount"))


@login_required
@permission_required("helpdesk.view_ticket", raise_exception=True)
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """Served only to who may see the ticket (and, for a note's file, only to finance)."""
    row = get_object_or_404(Attachment.objects.select_related("ticket__customer", "ticket__queue", "comment"), pk=pk)
    if not can_see_ticket(request.user, row.ticket):
        raise Http404("No such attachment.")
    if row.comment_id and row.comment.internal and not (is_agent(request.user)
                                                         or request.user.has_perm("helpdesk.view_all_tickets")):
        raise Http404("No such attachment.")
    return FileResponse(row.file.open("rb"), as_attachment=True, filename=row.file_name, content_type=row.content_type)


@require_GET
def rate(request: HttpRequest, token: str) -> HttpResponse:
    """The one-click rating link from the resolution e-mail (signed; valid for 30 days)."""
    try:
        data = signing.loads(token, salt=RATE_SALT, max_age=dt.timedelta(days=30))
    except signing.BadSignature:
        raise Http404("This rating link is not valid.")
    try:
        ticket = services.ticket_rate(ticket_id=int(data["t"]), score=int(data["s"]))
    except errors.DomainError as exc:
        return render(request, "helpdesk/rated.html", {"error": exc.message}, status=400)
    return render(request, "helpdesk/rated.html", {"ticket": ticket})


# --- data change requests (billing specialists) ------------------------------------------------------

@login_required
@permission_required("helpdesk.decide_datachange", raise_exception=True)
def data_changes(request: HttpRequest) -> HttpResponse:
    return sorted_page(request, DATA_CHANGE_SORTS,
                       DataChangeRequest.objects.select_related("customer", "ticket", "requested_by", "decided_by"),
                       "helpdesk/data_changes.html", page_size=PAGE_SIZE)


DATA_CHANGE_SORTS = sortable("helpdesk:data_changes", {
    "ticket": ("ticket__reference",), "customer": ("customer__legal_name",), "asked_by": ("requested_by__username",),
    "status": ("status", "-created_at"),
}, default="status")


@login_required
@require_POST
def data_change_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    row = get_object_or_404(DataChangeRequest, pk=pk)
    back = reverse("helpdesk:data_changes")
    if decision == "approve":
        act_ = lambda: services.data_change_approve(request_id=row.pk, by=request.user, note=request.POST.get("note", ""))  # noqa: E731
    elif decision == "reject":
        act_ = lambda: services.data_change_reject(request_id=row.pk, by=request.user, note=request.POST.get("note", ""))  # noqa: E731
    else:
        raise Http404
    return button_action(request, permission="helpdesk.decide_datachange", back=back, act=act_,
                         done=lambda r: f"Data change for {r.customer.name} {r.get_status_display().lower()}.")


# --- metrics ----------------------------------------------------------------------------------------

def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = dates.today()
    try:
        since = dt.date.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        since = today - dt.timedelta(days=30)
    try:
        until = dt.date.fromisoformat(request.GET.get("until", ""))
    except ValueError:
        until = today
    return since, until


@login_required
@permission_required("helpdesk.view_helpdesk_metrics", raise_exception=True)
def metrics_view(request: HttpRequest) -> HttpResponse:
    since, until = _period(request)
    by = "category" if request.GET.get("by") == "category" else "queue"
    data = metrics(since=since, until=until, by=by)
    chart = {"labels": [r["label"] for r in data["rows"]], "volume": [r["volume"] for r in data["rows"]],
             "fr": [float(r["fr_attainment"]) if r["fr_attainment"] is not None else None for r in data["rows"]],
             "res": [float(r["res_attainment"]) if r["res_attainment"] is not None else None for r in data["rows"]],
             "backlog_labels": [b["label"] for b in data["backlog"]], "backlog": [b["count"] for b in data["backlog"]]}
    return render(request, "helpdesk/metrics.html", {"data": data, "chart": chart, "since": since, "until": until,
                                                     "by": by})


@login_required
@permission_required("helpdesk.view_helpdesk_metrics", raise_exception=True)
def metrics_export(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook

    from otc.exports import sheet_append, workbook_bytes

    since, until = _period(request)
    by = "category" if request.GET.get("by") == "category" else "queue"
    data = metrics(since=since, until=until, by=by)
    book = Workbook()
    sheet = book.active
    sheet.title = "By " + by
    sheet_append(sheet, [by.title(), "Volume", "First response median (business min)", "First response p90",
                         "Resolution median (business min)", "Resolution p90", "First response SLA %",
                         "Resolution SLA %", "Satisfaction", "Rated"])
    for r in data["rows"]:
        sheet_append(sheet, [r["label"], r["volume"], r["fr_median"], r["fr_p90"], r["res_median"], r["res_p90"],
                             float(r["fr_attainment"]) if r["fr_attainment"] is not None else None,
                             float(r["res_attainment"]) if r["res_attainment"] is not None else None,
                             r["satisfaction"], r["rated"]])
    backlog = book.create_sheet("Backlog by age")
    sheet_append(backlog, ["Age", "Open tickets"])
    for b in data["backlog"]:
        sheet_append(backlog, [b["label"], b["count"]])
    response = HttpResponse(workbook_bytes(book),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="helpdesk-metrics-{since}-{until}.xlsx"'
    return response


# --- held mail --------------------------------------------------------------------------------------

@login_required
@permission_required("helpdesk.work_tickets", raise_exception=True)
def mail_log(request: HttpRequest) -> HttpResponse:
    return sorted_page(request, MAIL_SORTS, MailMessage.objects.filter(direction=MailMessage.Direction.IN).exclude(
        status=MailMessage.Status.THREADED).select_related("ticket"), "helpdesk/mail_log.html", page_size=PAGE_SIZE)


MAIL_SORTS = sortable("helpdesk:mail_log", {
    "received": ("at",), "from": ("sender",), "subject": ("subject",), "status": ("status",),
    "ticket": ("ticket__reference",),
}, default="-received")


# --- inbound mail webhook ---------------------------------------------------------------------------

def _signature_ok(post) -> tuple[bool, str]:
    key = getattr(settings, "HELPDESK_INBOUND_SIGNING_KEY", "")
    if not key:
        return False, "Inbound mail is not configured (no signing key)."
    timestamp, token, signature = post.get("timestamp", ""), post.get("token", ""), post.get("signature", "")
    if not (timestamp.isdigit() and token and signature):
        return False, "The request is not signed (timestamp, token and signature are required)."
    if abs(time.time() - int(timestamp)) > conf.get("HELPDESK_INBOUND_MAX_AGE_SECONDS"):
        return False, "The signature has expired."
    expected = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return False, "The signature does not match."
    return True, ""


@csrf_exempt
@require_POST
def inbound_mail(request: HttpRequest) -> JsonResponse:
    """POST in the form mail providers use (Mailgun's "routes" format; SendGrid's Inbound Parse
    fields are accepted too): timestamp, token, signature = HMAC-SHA256(key, timestamp + token);
    sender/from, subject, body-plain/text, Message-Id, In-Reply-To, References; files attached.
    200 when handled (threaded, held, duplicate); 406 when refused (the provider does not retry);
    403 when the signature is wrong."""
    ok, reason = _signature_ok(request.POST)
    if not ok:
        return json_error("permission_denied", reason, 403)
    post = request.POST
    mail = services.InboundMail(
        message_id=post.get("Message-Id") or post.get("message-id") or post.get("Message-ID") or "",
        sender=post.get("sender") or post.get("from") or post.get("From") or "",
        subject=post.get("subject") or post.get("Subject") or "",
        body=post.get("stripped-text") or post.get("body-plain") or post.get("text") or "",
        in_reply_to=post.get("In-Reply-To") or post.get("in-reply-to") or "",
        references=post.get("References") or post.get("references") or "",
        attachments=[services.AttachmentIn(f.name, f.read(), f.content_type or "") for f in request.FILES.values()],
    )
    outcome = services.mail_receive(mail=mail)
    status = 406 if outcome.status == MailMessage.Status.REFUSED else 200
    return JsonResponse({"status": outcome.status, "reason": outcome.reason, "ticket": outcome.ticket,
                         "duplicate": outcome.duplicate}, status=status)

