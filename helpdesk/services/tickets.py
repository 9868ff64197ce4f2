"""Tickets: filing, replies and notes, transitions, assignment, watchers, links and merges,
rating, and the SLA cache rewritten from the event log. Routing (queue, priority, round robin) is
in `routing`, the shared lock/checks/event/attachments in `common`; both re-exported here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from billing.models import Invoice
from contracts.models import Contract
from customers.models import Customer
from otc import dates
from otc.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import amount_in, validate_currency
from otc.services import counter_next, ensure_transition, record_status_change
from receivables.models import Receipt

from .. import conf, sla
from ..models import (
    BusinessCalendar,
    Category,
    Comment,
    DataChangeRequest,
    Priority,
    SlaPolicy,
    Ticket,
    TicketEvent,
    TicketLink,
)
from ..selectors import can_see_ticket, is_agent, tickets_visible_to
from .common import (  # noqa: F401 - re-exported: actions and mail import them from here
    AttachmentIn,
    check_attachment,
    ensure_visible,
    event,
    lock_ticket,
    require_agent,
    store_attachments,
)
from .routing import (  # noqa: F401 - re-exported
    BASE_PRIORITY,
    DEFAULT_SLA,
    ROUTES,
    entity_for,
    priority_for,
    queue_ensure,
    round_robin_agent,
)

# The sweep looks at tickets due within this much wall-clock time: the latest warning point (20% of
# the longest default target, 48 business hours = 9.6 h) is at most this far ahead, weekends included.
SWEEP_HORIZON = dt.timedelta(days=5)
NEEDS_INVOICE = {Category.INVOICE_COPY, Category.CREDIT_REQUEST, Category.DISPUTE, Category.PAYMENT_STATUS,
                 Category.PORTAL_PROBLEM}
NEEDS_CUSTOMER = set(Category.values) - {Category.OTHER}


# --- filing -------------------------------------------------------------------------------------

def _pick(model: Any, pk: int | None, allowed: Any, label: str) -> Any:
    if not pk:
        return None
    obj = allowed.filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed(f"Choose one of your customers' {label}s.", fields={f"{label}_id": ["not yours"]})
    return obj


@transaction.atomic(durable=True)
def ticket_file(*, by: User, requester: User | None = None, category: str, subject: str, description: str,
                customer_id: int | None = None, invoice_id: int | None = None, contract_id: int | None = None,
                receipt_id: int | None = None, amount: Decimal | str | None = None, details: dict | None = None,
                self_service_shown: bool = False, channel: str = "web",
                attachments: list[AttachmentIn] | None = None, round_robin: bool = True) -> Ticket:
    """File a ticket for `requester` (default: `by`; the CRM files on a rep's behalf)."""
    return file_ticket(by=by, requester=requester, category=category, subject=subject, description=description,
                       customer_id=customer_id, invoice_id=invoice_id, contract_id=contract_id, receipt_id=receipt_id,
                       amount=amount, details=details, self_service_shown=self_service_shown, channel=channel,
                       attachments=attachments, round_robin=round_robin)


def file_ticket(*, by: User, requester: User | None, category: str, subject: str, description: str,
                customer_id: int | None, invoice_id: int | None, contract_id: int | None, receipt_id: int | None,
                amount: Decimal | str | None, details: dict | None, self_service_shown: bool, channel: str,
                attachments: list[AttachmentIn] | None, round_robin: bool = True,
                at: dt.datetime | None = None) -> Ticket:
    """`ticket_file` inside the caller's transaction (inbound mail files follow-ups with it)."""
    from billing.selectors import invoices_visible_to
    from contracts.selectors import contracts_visible_to
    from customers.selectors import customers_visible_to
    from receivables.selectors import receipts_visible_to

    from ..selectors import self_service_answer

    requester = requester or by
    if not requester.has_perm("helpdesk.file_ticket"):
        raise PermissionDenied(f"{requester} may not file help-desk tickets.")
    if requester.pk != by.pk and not (by.is_integration and by.has_perm("helpdesk.file_ticket")):
        raise PermissionDenied("Only an integration client may file a ticket on someone else's behalf.")
    if category not in Category.values:
        raise ValidationFailed("Choose a category.", fields={"category": ["invalid"]})
    subject, description = (subject or "").strip(), (description or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = ["required"]
    if not description:
        errors["description"] = ["required"]
    if errors:
        raise ValidationFailed("Give the ticket a subject and describe what you need.", fields=errors)
    customer = _pick(Customer, customer_id, customers_visible_to(requester), "customer")
    invoice = _pick(Invoice, invoice_id, invoices_visible_to(requester).exclude(status=Invoice.Status.DRAFT)
                    .select_related("legal_entity", "customer"), "invoice")
    contract = _pick(Contract, contract_id, contracts_visible_to(requester).select_related("legal_entity"), "contract")
    receipt = _pick(Receipt, receipt_id, receipts_visible_to(requester).select_related("legal_entity"), "receipt")
    for record in (invoice, contract, receipt):
        if record is not None and record.customer_id is not None:
            if customer is None:
                customer = record.customer
            elif record.customer_id != customer.pk:
                raise ValidationFailed("The document belongs to another customer than the one chosen.",
                                       fields={"customer_id": ["mismatch"]})
    if category in NEEDS_CUSTOMER and customer is None:
        raise ValidationFailed("Choose the customer the ticket is about.", fields={"customer_id": ["required"]})
    if category in NEEDS_INVOICE and invoice is None:
        raise ValidationFailed("Choose the invoice the ticket is about.", fields={"invoice_id": ["required"]})
    if category == Category.CONTRACT_QUESTION and contract is None:
        raise ValidationFailed("Choose the contract the question is about.", fields={"contract_id": ["required"]})
    details = dict(details or {})
    changes = {}
    if category == Category.DATA_CHANGE:
        changes = {k: str(v).strip() for k, v in (details.get("changes") or {}).items()
                   if k in DataChangeRequest.FIELDS and str(v).strip()}
        if not changes:
            raise ValidationFailed("Say which customer data should change and to what.", fields={"changes": ["required"]})
    currency = ""
    if amount is not None:
        currency = validate_currency(invoice.currency if invoice else details.get("currency") or
                                     (customer.default_currency if customer else "EUR"))
        amount = amount_in(amount, currency, field="amount")  # places of the currency, plausible size
        if amount <= 0:
            raise ValidationFailed("The amount must be positive.", fields={"amount": ["positive"]})
    weight = amount if amount is not None else (invoice.gross_total if invoice else None)
    entity = entity_for(customer, invoice, contract, receipt)
    queue = queue_ensure(legal_entity=entity, kind=ROUTES[category])
    stamp = at or dates.now()
    answer = ""
    if self_service_shown and invoice is not None:
        answer = self_service_answer(category, invoice) or ""
    number = counter_next(name="helpdesk_ticket")[0]
    ticket = Ticket.objects.create(
        reference=f"HD-{number:06d}", legal_entity=entity, queue=queue, category=category,
        priority=priority_for(category, amount=weight, customer=customer), subject=subject[:200],
        description=description, details=details, customer=customer, invoice=invoice, contract=contract,
        receipt=receipt, amount=amount, currency=currency, requester=requester, created_by=by, channel=channel,
        self_service_answer=answer, created_at=stamp,
    )
    event(ticket, TicketEvent.Kind.CREATED, by=by, to_value=ticket.priority, at=stamp,
          note=f"Filed by {by} for {requester}" if by.pk != requester.pk else "")
    record_status_change(ticket, by=by, from_state="")
    if attachments:
        store_attachments(ticket, None, attachments, by)
    if changes:
        DataChangeRequest.objects.create(ticket=ticket, customer=customer, changes=changes, requested_by=requester)
    if category == Category.DISPUTE:
        event(ticket, TicketEvent.Kind.NOTE, by=None, at=stamp,
              note="The dispute record (holding the invoice out of dunning) comes with collections; until then the "
                   "ticket is worked by the Collections queue.")
    if round_robin:
        assignee = round_robin_agent(queue.pk)
        if assignee is not None:
            ticket.assignee = assignee
            ticket.save(update_fields=["assignee"])
            event(ticket, TicketEvent.Kind.ASSIGNED, by=None, to_value=str(assignee.pk), at=stamp,
                  note=f"Round-robin: {assignee}")
    refresh(ticket, now=stamp)
    from ..notify import after_commit

    after_commit("filed", ticket_id=ticket.pk)
    return ticket


# --- replies and notes -------------------------------------------------------------------------

def add_comment(ticket: Ticket, *, by: User, body: str, internal: bool, source: str,
                attachments: list[AttachmentIn] | None = None, at: dt.datetime | None = None) -> Comment:
    """A reply or note on a locked ticket, with its status effects (inside the caller's transaction)."""
    body = (body or "").strip()
    if not body and not attachments:
        raise ValidationFailed("Write a reply or attach a file.", fields={"body": ["required"]})
    agent = is_agent(by)
    if internal and not agent:
        raise PermissionDenied("Only help-desk agents write internal notes.")
    stamp = at or dates.now()
    if ticket.status == Ticket.Status.CLOSED:
        raise InvalidTransition(f"Ticket {ticket.reference} is closed; file a new ticket (it can link to this one).")
    reopened = False
    if ticket.status == Ticket.Status.RESOLVED and not internal:
        window = dt.timedelta(days=conf.get("HELPDESK_REOPEN_DAYS"))
        if not agent and ticket.resolved_at and stamp - ticket.resolved_at > window:
            raise InvalidTransition(f"Ticket {ticket.reference} was resolved more than "
                                    f"{conf.get('HELPDESK_REOPEN_DAYS')} days ago; file a new ticket.")
        reopened = not agent
    comment = Comment.objects.create(ticket=ticket, author=by, body=body or "(attachment)", internal=internal,
                                     source=source, created_at=stamp)
    if attachments:
        store_attachments(ticket, comment, attachments, by)
    if internal:
        event(ticket, TicketEvent.Kind.NOTE, by=by, at=stamp)
    elif agent:
        event(ticket, TicketEvent.Kind.REPLY, by=by, at=stamp)
        if ticket.status == Ticket.Status.NEW:
            _move(ticket, Ticket.Status.OPEN, by=by, at=stamp, note="Answered", notify=False)
    else:
        event(ticket, TicketEvent.Kind.REQUESTER_REPLY, by=by, at=stamp)
        if reopened or ticket.status == Ticket.Status.WAITING_REQUESTER:
            _move(ticket, Ticket.Status.OPEN, by=by, at=stamp, notify=False,
                  note="Reopened by a reply" if reopened else "Requester replied")
    refresh(ticket, now=stamp)
    if not internal:
        from ..notify import after_commit

        after_commit("reply", ticket_id=ticket.pk, comment_id=comment.pk)
    return comment


@transaction.atomic(durable=True)
def ticket_comment(*, ticket_id: int, by: User, body: str, internal: bool = False, source: str = "web",
                   attachments: list[AttachmentIn] | None = None) -> Comment:
    """Reply (seen by the requester) or internal note. A requester's reply reopens a ticket resolved
    within the reopen window and wakes a ticket waiting on them."""
    ticket = lock_ticket(ticket_id)
    ensure_visible(ticket, by)
    return add_comment(ticket, by=by, body=body, internal=internal, source=source, attachments=attachments)


# --- transitions, priority, assignment ---------------------------------------------------------

def _move(ticket: Ticket, to: str, *, by: User | None, at: dt.datetime | None = None, note: str = "",
          notify: bool = True) -> None:
    ensure_transition(ticket, to=to)
    before, stamp = ticket.status, at or dates.now()
    ticket.status = to
    fields = ["status", "updated_at"]
    if to in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED) and before not in (Ticket.Status.RESOLVED,):
        ticket.resolved_at = stamp
        fields.append("resolved_at")
    ticket.save(update_fields=fields)
    event(ticket, TicketEvent.Kind.STATUS, by=by, from_value=before, to_value=to, at=stamp, note=note)
    record_status_change(ticket, by=by, from_state=before, note=note)
    if notify:
        from ..notify import after_commit

        after_commit("status", ticket_id=ticket.pk, from_state=before, to_state=to)


def move(ticket: Ticket, to: str, *, by: User | None, note: str = "", at: dt.datetime | None = None) -> Ticket:
    _move(ticket, to, by=by, note=note, at=at)
    refresh(ticket, now=at)
    return ticket


@transaction.atomic(durable=True)
def ticket_transition(*, ticket_id: int, by: User, to: str, note: str = "") -> Ticket:
    """Agents move tickets along the map; the requester may only close or resolve their own."""
    ticket = lock_ticket(ticket_id)
    ensure_visible(ticket, by)
    if not is_agent(by) and not (ticket.requester_id == by.pk and to in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)):
        raise PermissionDenied("Only help-desk agents change a ticket's status.")
    if ticket.merged_into_id and to != Ticket.Status.CLOSED:
        raise InvalidTransition(f"{ticket.reference} was merged; work it on the ticket it was merged into.")
    return move(ticket, to, by=by, note=(note or "").strip())


@transaction.atomic(durable=True)
def ticket_set_priority(*, ticket_id: int, by: User, priority: str, note: str = "") -> Ticket:
    ticket = lock_ticket(ticket_id)
    ensure_visible(ticket, by)
    require_agent(by, "change the priority")
    if priority not in Priority.values:
        raise ValidationFailed("Choose a priority.", fields={"priority": ["invalid"]})
    if priority == ticket.priority:
        return ticket
    before = ticket.priority
    ticket.priority = priority
    ticket.save(update_fields=["priority", "updated_at"])
    event(ticket, TicketEvent.Kind.PRIORITY, by=by, from_value=before, to_value=priority, note=note)
    refresh(ticket)
    return ticket


def _assign(ticket: Ticket, assignee: User | None, by: User | None, note: str = "") -> Ticket:
    if assignee is not None and not (assignee.has_perm("helpdesk.work_tickets")
                                     and ticket.queue.members.filter(pk=assignee.pk).exists()):
        raise ValidationFailed(f"{assignee} is not an agent of the {ticket.queue} queue.",
                               fields={"assignee_id": ["not a member"]})
    before = ticket.assignee_id
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    event(ticket, TicketEvent.Kind.ASSIGNED, by=by, from_value=str(before or ""),
          to_value=str(assignee.pk if assignee else ""), note=note)
    if assignee is not None and (by is None or assignee.pk != by.pk):
        from ..notify import after_commit

        after_commit("assigned", ticket_id=ticket.pk)
    return ticket


@transaction.atomic(durable=True)
def ticket_assign(*, ticket_id: int, by: User, assignee_id: int | None) -> Ticket:
    ticket = lock_ticket(ticket_id)
    ensure_visible(ticket, by)
    require_agent(by, "assign tickets")
    assignee = User.objects.filter(pk=assignee_id).first() if assignee_id else None
    if assignee_id and assignee is None:
        raise ValidationFailed("No such agent.", fields={"assignee_id": ["unknown"]})
    return _assign(ticket, assignee, by)


@transaction.atomic(durable=True)
def ticket_pick(*, ticket_id: int, by: User) -> Ticket:
    """An agent takes the ticket."""
    ticket = lock_ticket(ticket_id)
    ensure_visible(ticket, by)
    require_agent(by, "pick tickets")
    return _assign(ticket, by, by, note="Picked")


@transaction.atomic(durable=True)
def ticket_watch(*, ticket_id: int, by: User, user_id: int | None = None, watch: bool = True) -> Ticket:
    """Watch or unwatch (yourself; agents may add anyone who can see the ticket)."""
    ticket = lock_ticket(ticket_id)
    ensure_visible(ticket, by)
    target = by if not user_id or user_id == by.pk else User.objects.filter(pk=user_id).first()
    if target is None:
        raise ValidationFailed("No such person.", fields={"user_id": ["unknown"]})
    if target.pk != by.pk:
        require_agent(by, "add other watchers")
        if not can_see_ticket(target, ticket):
            raise ValidationFailed(f"{target} may not see this ticket.", fields={"user_id": ["cannot see"]})
    (ticket.watchers.add if watch else ticket.watchers.remove)(target)
    event(ticket, TicketEvent.Kind.WATCH, by=by, to_value=("+" if watch else "-") + str(target.pk))
    return ticket


def _other(reference: str, by: User) -> Ticket:
    other = tickets_visible_to(by).filter(reference__iexact=(reference or "").strip()).first()
    if other is None:
        raise ValidationFailed(f"No ticket {reference} that you can see.", fields={"reference": ["unknown"]})
    return Ticket.objects.select_for_update(of=("self",)).get(pk=other.pk)


@transaction.atomic(durable=True)
def ticket_link(*, ticket_id: int, by: User, reference: str, kind: str = TicketLink.Kind.RELATED) -> TicketLink:
    ticket = lock_ticket(ticket_id)
    ensure_visible(ticket, by)
    require_agent(by, "link tickets")
    other = _other(reference, by)
    if other.pk == ticket.pk:
        raise ValidationFailed("A ticket cannot be linked to itself.", fields={"reference": ["self"]})
    link, _ = TicketLink.objects.get_or_create(from_ticket=ticket, to_ticket=other, defaults={"kind": kind, "by": by})
    event(ticket, TicketEvent.Kind.LINKED, by=by, to_value=other.reference, note=kind)
    return link


@transaction.atomic(durable=True)
def ticket_merge(*, ticket_id: int, by: User, into_reference: str) -> Ticket:
    """Close a duplicate into another ticket of the same customer: its requester watches the
    surviving ticket, which gets a note; the duplicate keeps its history and points to it."""
    ticket = lock_ticket(ticket_id)
    ensure_visible(ticket, by)
    require_agent(by, "merge tickets")
    target = _other(into_reference, by)
    if target.pk == ticket.pk or target.merged_into_id:
        raise ValidationFailed("Merge into another ticket that is not itself merged.", fields={"reference": ["invalid"]})
    if target.customer_id != ticket.customer_id:
        raise ValidationFailed("Only tickets about the same customer can be merged.", fields={"reference": ["customer"]})
    if target.status == Ticket.Status.CLOSED:
        raise InvalidTransition(f"{target.reference} is closed.")
    ticket.merged_into = target
    ticket.save(update_fields=["merged_into", "updated_at"])
    TicketLink.objects.get_or_create(from_ticket=ticket, to_ticket=target,
                                     defaults={"kind": TicketLink.Kind.DUPLICATE, "by": by})
    target.watchers.add(ticket.requester)
    event(ticket, TicketEvent.Kind.MERGED, by=by, to_value=target.reference)
    event(target, TicketEvent.Kind.MERGED, by=by, from_value=ticket.reference,
          note=f"{ticket.reference} ({ticket.subject}) merged into this ticket.")
    if ticket.status != Ticket.Status.CLOSED:
        move(ticket, Ticket.Status.CLOSED, by=by, note=f"Merged into {target.reference}")
    return ticket


@transaction.atomic(durable=True)
def ticket_rate(*, ticket_id: int, score: int, by: User | None = None) -> Ticket:
    """The one-click rating from the resolution e-mail (a signed link) or the ticket page."""
    ticket = lock_ticket(ticket_id)
    if by is not None and by.pk != ticket.requester_id:
        raise PermissionDenied("Only the requester rates a ticket.")
    if score not in (1, 2, 3, 4, 5):
        raise ValidationFailed("Rate from 1 to 5.", fields={"score": ["range"]})
    if ticket.status not in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        raise InvalidTransition("Only a resolved ticket can be rated.")
    ticket.satisfaction = score
    ticket.save(update_fields=["satisfaction", "updated_at"])
    event(ticket, TicketEvent.Kind.RATED, by=by or ticket.requester, to_value=str(score))
    return ticket


# --- SLA ----------------------------------------------------------------------------------------

def sla_inputs(ticket: Ticket) -> tuple[list[sla.Event], sla.Hours, dict[str, tuple[int, int]], int]:
    rows = TicketEvent.objects.filter(ticket_id=ticket.pk).values_list("kind", "at", "to_value", "by_id")
    events = [sla.Event(kind=k, at=at, to_value=v, by_requester=(by_id == ticket.requester_id)) for k, at, v, by_id in rows]
    calendar = BusinessCalendar.objects.filter(legal_entity_id=ticket.legal_entity_id).prefetch_related("holidays").first()
    policies = list(SlaPolicy.objects.filter(queue_id=ticket.queue_id))
    targets = {p.priority: (p.first_response_minutes, p.resolution_minutes) for p in policies}
    warn = next((p.warn_percent for p in policies if p.priority == ticket.priority), 80)
    return events, sla.Hours.of(calendar), targets, warn


def sla_result(ticket: Ticket, now: dt.datetime | None = None) -> tuple[sla.Result, int]:
    events, hours, targets, warn = sla_inputs(ticket)
    return sla.compute(events, hours=hours, targets=targets, now=now or dates.now()), warn


def refresh(ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    """Rewrite the ticket's SLA cache from its event log (the log is the truth)."""
    result, warn = sla_result(ticket, now)
    first, res = result.first_response, result.resolution
    ticket.first_response_at = first.stopped_at
    ticket.first_response_due = first.due
    ticket.resolution_due = res.due
    ticket.first_response_minutes = first.business_minutes if first.stopped_at else None
    ticket.resolution_minutes = res.business_minutes if res.stopped_at else None
    ticket.sla_first_response_met = first.met
    ticket.sla_resolution_met = res.met
    ticket.sla_state = sla.state_of(result, warn_percent=warn)
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_at=ticket.first_response_at, first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due, first_response_minutes=ticket.first_response_minutes,
        resolution_minutes=ticket.resolution_minutes, sla_first_response_met=ticket.sla_first_response_met,
        sla_resolution_met=ticket.sla_resolution_met, sla_state=ticket.sla_state)
    return ticket


@transaction.atomic(durable=True)
def ticket_sla_refresh(*, ticket_id: int, now: dt.datetime | None = None) -> Ticket:
    return refresh(lock_ticket(ticket_id), now=now)


def tickets_sla_refresh_for_entity(*, legal_entity_id: int) -> int:
    """After a calendar or holiday change: every active ticket of the entity is recomputed."""
    ids = list(Ticket.objects.filter(legal_entity_id=legal_entity_id, status__in=Ticket.ACTIVE).values_list("pk", flat=True))
    for pk in ids:
        ticket_sla_refresh(ticket_id=pk)
    return len(ids)


def tickets_sla_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Refresh running clocks; warn the assignee (and breach: the team lead too) once per ticket."""
    now = now or dates.now()
    counts = {"refreshed": 0, "warnings": 0, "breaches": 0}
    horizon = now + SWEEP_HORIZON  # a warning falls at most this far before a due date
    due_soon = Q(first_response_due__lte=horizon) | Q(resolution_due__lte=horizon)
    ids = list(Ticket.objects.filter(due_soon, status__in=Ticket.ACTIVE)
               .exclude(sla_state__in=[Ticket.SlaState.BREACHED, Ticket.SlaState.PAUSED])
               .values_list("pk", flat=True).order_by("pk"))
    for pk in ids:
        with transaction.atomic():
            ticket = refresh(lock_ticket(pk), now=now)
            counts["refreshed"] += 1
            kind = {"warning": TicketEvent.Kind.SLA_WARNING, "breached": TicketEvent.Kind.SLA_BREACH}.get(ticket.sla_state)
            if kind and not TicketEvent.objects.filter(ticket=ticket, kind=kind).exists():
                event(ticket, kind, by=None, at=now)
                counts["warnings" if kind == TicketEvent.Kind.SLA_WARNING else "breaches"] += 1
                from ..notify import after_commit

                after_commit("sla", ticket_id=ticket.pk, sla_kind=kind)
    return counts


def tickets_close_resolved(*, now: dt.datetime | None = None) -> int:
    """Resolved tickets past the reopen window are closed."""
    now = now or dates.now()
    cutoff = now - dt.timedelta(days=conf.get("HELPDESK_REOPEN_DAYS"))
    ids = list(Ticket.objects.filter(status=Ticket.Status.RESOLVED, resolved_at__lt=cutoff).values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            ticket = lock_ticket(pk)
            if ticket.status == Ticket.Status.RESOLVED:
                move(ticket, Ticket.Status.CLOSED, by=None, note="Closed after the reopen window", at=now)
    return len(ids)


def visible_or_404(*, reference: str, by: User) -> Ticket:
    ticket = tickets_visible_to(by).filter(Q(reference=reference)).first()
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket
