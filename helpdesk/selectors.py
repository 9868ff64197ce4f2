"""Help desk: who sees which ticket, queue pages, self-service answers from the books, metrics."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, QuerySet

from billing.models import Delivery, Invoice
from otc import dates
from otc.models import User
from otc.money import money_text

from .models import Category, Comment, Queue, Ticket

AGENT_PERM = "helpdesk.work_tickets"
ALL_PERM = "helpdesk.view_all_tickets"


def is_agent(user: User) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(AGENT_PERM))


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    """The auditor (and whoever holds view_all_tickets) reads every ticket; an agent sees the
    queues they belong to and tickets assigned to them; anyone who may file sees the tickets they
    filed, watch, or that concern customers they own. Nobody else sees any."""
    qs = Ticket.objects.all()
    if not user or not user.is_authenticated or not user.has_perm("helpdesk.view_ticket"):
        return qs.none()
    if user.has_perm(ALL_PERM):
        return qs
    from customers.models import Customer

    # subqueries rather than joins: the queue page filters 100,000 tickets on this rule
    watched = Ticket.watchers.through.objects.filter(user_id=user.pk).values("ticket_id")
    owned = Customer.objects.filter(sales_owner_id=user.pk).values("pk")
    rule = Q(requester_id=user.pk) | Q(customer_id__in=owned) | Q(pk__in=watched)
    if user.has_perm(AGENT_PERM):
        queues = Queue.members.through.objects.filter(user_id=user.pk).values("queue_id")
        rule |= Q(queue_id__in=queues) | Q(assignee_id=user.pk)
    return qs.filter(rule)


def can_see_ticket(user: User, ticket: Ticket) -> bool:
    if not user or not user.is_authenticated or not user.has_perm("helpdesk.view_ticket"):
        return False
    if user.has_perm(ALL_PERM) or ticket.requester_id == user.pk:
        return True
    if ticket.customer is not None and ticket.customer.sales_owner_id == user.pk:
        return True
    if user.has_perm(AGENT_PERM) and (ticket.assignee_id == user.pk or ticket.queue.members.filter(pk=user.pk).exists()):
        return True
    return ticket.watchers.filter(pk=user.pk).exists()


def ticket_list(*, user: User, scope: str = "", status: str = "", queue_id: int | None = None, category: str = "",
                search: str = "", customer_id: int | None = None) -> QuerySet[Ticket]:
    """A queue or "my tickets" page: a fixed number of queries whatever the number of tickets.
    scope: "mine" (assigned to me / filed by me), "unassigned", "open" (default: every active)."""
    qs = tickets_visible_to(user)
    if status == "all":
        pass
    elif status:
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=Ticket.ACTIVE)
    if scope == "mine":
        qs = qs.filter(Q(assignee_id=user.pk) if is_agent(user) else Q(requester_id=user.pk))
    elif scope == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif scope == "breached":
        qs = qs.filter(sla_state__in=[Ticket.SlaState.BREACHED, Ticket.SlaState.WARNING])
    if queue_id:
        qs = qs.filter(queue_id=queue_id)
    if category:
        qs = qs.filter(category=category)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if search:
        from customers.models import Customer

        customers = Customer.objects.filter(Q(legal_name__icontains=search) | Q(display_name__icontains=search)
                                            | Q(account_number__iexact=search)).values("pk")
        qs = qs.filter(Q(reference__iexact=search) | Q(subject__icontains=search) | Q(customer_id__in=customers))
    return qs.order_by("resolution_due", "-created_at", "id")


def tickets_by_ids(ids: list[int]) -> list[Ticket]:
    """One page of the queue, in the order of `ids`, with what the rows show (one query). The
    queue sorts and counts on the narrow ticket rows first, then joins only the page's 50."""
    rows = Ticket.objects.filter(pk__in=ids).select_related("customer", "queue__legal_entity", "assignee", "requester")
    by_id = {t.pk: t for t in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def ticket_page(*, user: User, reference: str) -> Ticket | None:
    ticket = (tickets_visible_to(user).select_related(
        "customer", "invoice", "contract", "receipt", "credit_note", "queue__legal_entity", "assignee", "requester",
        "created_by", "merged_into").filter(reference=reference).first())
    return ticket


def ticket_thread(ticket: Ticket, user: User) -> list[Comment]:
    """Replies, and internal notes for agents and readers of every ticket (never for reps)."""
    qs = ticket.comments.select_related("author").prefetch_related("attachments")
    if not (is_agent(user) or user.has_perm(ALL_PERM)):
        qs = qs.filter(internal=False)
    return list(qs)


def queues_for(user: User) -> QuerySet[Queue]:
    qs = Queue.objects.select_related("legal_entity")
    if user.has_perm(ALL_PERM):
        return qs
    return qs.filter(members=user)


def queue_counts(user: User) -> list[Queue]:
    """The queues the user works, each with its open, unassigned, due soon and breached tickets as
    attributes (one aggregate query)."""
    queues = list(queues_for(user).order_by("legal_entity__code", "kind"))
    counts = {row["queue_id"]: row for row in Ticket.objects.filter(
        status__in=Ticket.ACTIVE, queue_id__in=[q.pk for q in queues]).values("queue_id").annotate(
        open=Count("id"), unassigned=Count("id", filter=Q(assignee__isnull=True)),
        warning=Count("id", filter=Q(sla_state=Ticket.SlaState.WARNING)),
        breached=Count("id", filter=Q(sla_state=Ticket.SlaState.BREACHED))).order_by()}
    for queue in queues:
        row: Mapping[str, Any] = counts.get(queue.pk, {})
        for key in ("open", "unassigned", "warning", "breached"):
            setattr(queue, key, row.get(key, 0))
    return queues


# --- answers from the books ---------------------------------------------------------------------

def payment_answer(invoice: Invoice) -> str:
    """What the books say about the invoice's payment: applications found, balance, due date."""
    from receivables.models import ReceiptApplication

    apps = list(ReceiptApplication.objects.filter(invoice=invoice, reversed_at__isnull=True)
                .select_related("receipt").order_by("applied_at", "id"))
    cur = invoice.currency
    lines = [f"Invoice {invoice.number} ({money_text(invoice.gross_total, cur)}, due {invoice.due_date:%Y-%m-%d}) "
             f"is {invoice.get_status_display().lower()}."]
    for app in apps:
        receipt = app.receipt
        payer = f" from {receipt.payer_name}" if receipt.payer_name else ""
        lines.append(f"- {money_text(app.amount, cur)} received {receipt.value_date:%Y-%m-%d}{payer} "
                     f"(receipt {receipt.number}), applied {app.applied_at:%Y-%m-%d}.")
    if not apps:
        lines.append("No payment has been applied to it yet.")
    if invoice.amount_credited:
        lines.append(f"Credited: {money_text(invoice.amount_credited, cur)}.")
    balance = invoice.balance_due
    if balance > 0:
        overdue = invoice.due_date and invoice.due_date < dates.today()
        lines.append(f"Still due: {money_text(balance, cur)}{' (overdue)' if overdue else ''}.")
    else:
        lines.append("Nothing is left to pay.")
    return "\n".join(lines)


def invoice_copy_answer(invoice: Invoice) -> str:
    """Where the invoice went: its deliveries and portal upload, and that the PDF can be downloaded."""
    lines = [f"Invoice {invoice.number} was issued on {invoice.issue_date:%Y-%m-%d} for "
             f"{money_text(invoice.gross_total, invoice.currency)}."]
    for delivery in Delivery.objects.filter(invoice=invoice).order_by("at", "id"):
        lines.append(f"- {delivery.at:%Y-%m-%d}: {delivery.get_channel_display()} {delivery.get_status_display().lower()}"
                     f"{' to ' + delivery.recipients if delivery.recipients else ''}.")
    for submission in invoice.portal_submissions.all():
        lines.append(f"- Portal upload ({submission.portal}): {submission.get_status_display().lower()}"
                     f"{' — ' + submission.rejection_reason if submission.rejection_reason else ''}.")
    lines.append("You can download the PDF from the invoice page.")
    return "\n".join(lines)


def self_service_answer(category: str, invoice: Invoice | None) -> str | None:
    if invoice is None or invoice.status == Invoice.Status.DRAFT:
        return None
    if category == Category.PAYMENT_STATUS:
        return payment_answer(invoice)
    if category == Category.INVOICE_COPY:
        return invoice_copy_answer(invoice)
    return None


# --- metrics ------------------------------------------------------------------------------------

def _pct(values: list[int], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1])


AGE_BUCKETS = [(0, 1, "< 1 day"), (1, 3, "1-3 days"), (3, 7, "3-7 days"), (7, 30, "7-30 days"), (30, None, "> 30 days")]


def metrics(*, since: dt.date, until: dt.date, by: str = "queue") -> dict[str, Any]:
    """Per queue (or category): volume, first-response and resolution business minutes (median,
    p90), SLA attainment, satisfaction; and the backlog by age. The counts are SQL aggregates;
    the percentiles are taken over the period's per-ticket minutes (one column, one query)."""
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    period = Ticket.objects.filter(created_at__gte=start, created_at__lt=end)
    key = "queue" if by == "queue" else "category"
    groups = list(period.values(key).annotate(
        volume=Count("id"),
        fr_met=Count("id", filter=Q(sla_first_response_met=True)),
        fr_known=Count("id", filter=Q(sla_first_response_met__isnull=False)),
        res_met=Count("id", filter=Q(sla_resolution_met=True)),
        res_known=Count("id", filter=Q(sla_resolution_met__isnull=False)),
        rated=Count("satisfaction"), satisfaction=Avg("satisfaction"),
    ).order_by(key))
    minutes: dict[Any, tuple[list[int], list[int]]] = {}
    for group_key, fr, res in period.values_list(key, "first_response_minutes", "resolution_minutes"):
        bucket = minutes.setdefault(group_key, ([], []))
        if fr is not None:
            bucket[0].append(fr)
        if res is not None:
            bucket[1].append(res)
    labels = {q.pk: str(q) for q in Queue.objects.select_related("legal_entity")} if key == "queue" else dict(Category.choices)
    rows = []
    for group in groups:
        fr, res = minutes.get(group[key], ([], []))
        rows.append({
            "label": labels.get(group[key], group[key]), "volume": group["volume"],
            "fr_median": _pct(fr, 0.5), "fr_p90": _pct(fr, 0.9),
            "res_median": _pct(res, 0.5), "res_p90": _pct(res, 0.9),
            "fr_attainment": _share(group["fr_met"], group["fr_known"]),
            "res_attainment": _share(group["res_met"], group["res_known"]),
            "satisfaction": round(group["satisfaction"], 2) if group["satisfaction"] is not None else None,
            "rated": group["rated"],
        })
    now = dates.now()
    backlog = []
    active = Ticket.objects.filter(status__in=Ticket.ACTIVE)
    for low, high, label in AGE_BUCKETS:
        filt = Q(created_at__lte=now - dt.timedelta(days=low))
        if high is not None:
            filt &= Q(created_at__gt=now - dt.timedelta(days=high))
        backlog.append({"label": label, "count": active.filter(filt).count()})
    return {"rows": rows, "backlog": backlog, "by": key}


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1")) if whole else None


def my_tickets_panel(user: User) -> dict[str, Any]:
    from customers.models import Customer

    qs = tickets_visible_to(user).filter(Q(requester_id=user.pk) | Q(
        customer_id__in=Customer.objects.filter(sales_owner_id=user.pk).values("pk")))
    counts = qs.aggregate(active=Count("id", filter=Q(status__in=Ticket.ACTIVE)),
                          waiting=Count("id", filter=Q(status=Ticket.Status.WAITING_REQUESTER)),
                          resolved=Count("id", filter=Q(status=Ticket.Status.RESOLVED)))
    recent = list(qs.select_related("customer").order_by("-updated_at")[:8])
    return {**counts, "tickets": recent}


def my_queue_panel(user: User) -> dict[str, Any]:
    qs = tickets_visible_to(user).filter(status__in=Ticket.ACTIVE)
    mine = qs.filter(assignee=user)
    counts = qs.aggregate(mine=Count("id", filter=Q(assignee=user)),
                          unassigned=Count("id", filter=Q(assignee__isnull=True)),
                          warning=Count("id", filter=Q(sla_state=Ticket.SlaState.WARNING)),
                          breached=Count("id", filter=Q(sla_state=Ticket.SlaState.BREACHED)))
    next_up = list(mine.select_related("customer").order_by("resolution_due", "id")[:8])
    return {**counts, "tickets": next_up}


def customer_tickets(*, user: User, customer_id: int, limit: int = 10) -> list[Ticket]:
    return list(tickets_visible_to(user).filter(customer_id=customer_id).select_related("assignee")
                .order_by("-created_at")[:limit])


def watchers_prefetch() -> Prefetch:
    return Prefetch("watchers", queryset=User.objects.order_by("id"))
