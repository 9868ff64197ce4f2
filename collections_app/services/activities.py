"""Collector activities, logged in one step: the call (e-mail, meeting, note), its outcome, the next
action and its date, and — from the same conversation — a promise to pay or a dispute.
Also the statement sent from the customer's collections page (receivables e-mails it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from customers.models import Contact, Customer
from customers.selectors import customers_visible_to
from otc import dates
from otc.errors import PermissionDenied, ValidationFailed
from otc.models import User

from ..models import Activity, ActivityKind, ActivityOutcome
from .disputes import dispute_open
from .promises import promise_take

WORK = "collections_app.view_worklist"


@transaction.atomic(durable=True)
def activity_log(*, customer_id: int, by: User, kind: str, outcome: str, note: str = "",
                 contact_id: int | None = None, next_action: str = "", next_action_date: dt.date | None = None,
                 at: dt.datetime | None = None, promise: dict[str, Any] | None = None,
                 dispute: dict[str, Any] | None = None) -> Activity:
    """Log an activity; `promise` ({amount?, promised_date, invoice_ids}) takes a promise to pay and
    `dispute` ({invoice_id, reason, amount?, lines?, description?}) opens a dispute in the same
    transaction: all of it is stored, or nothing."""
    if not by.has_perm(WORK):
        raise PermissionDenied("You may not log collections activities.")
    if not customers_visible_to(by).filter(pk=customer_id).exists():
        raise ValidationFailed(f"Customer {customer_id} does not exist.", fields={"customer": ["unknown"]})
    if kind not in ActivityKind.values or kind == ActivityKind.STATEMENT:
        raise ValidationFailed("Choose call, e-mail, meeting or note.", fields={"kind": ["invalid"]})
    if outcome not in ActivityOutcome.values:
        raise ValidationFailed("Choose an outcome.", fields={"outcome": ["invalid"]})
    if contact_id is not None and not Contact.objects.filter(pk=contact_id, customer_id=customer_id).exists():
        raise ValidationFailed("That contact is not the customer's.", fields={"contact": ["unknown"]})
    when = at or dates.now()
    if when > dates.now() + dt.timedelta(minutes=5):
        raise ValidationFailed("An activity cannot be logged in the future.", fields={"at": ["future"]})
    if next_action_date is not None and next_action_date < (when.date() if at else dates.today()):
        raise ValidationFailed("The next action's date is in the past.", fields={"next_action_date": ["past"]})
    if next_action_date is not None and not (next_action or "").strip():
        next_action = "Follow up"
    if outcome == ActivityOutcome.PROMISED and not promise:
        raise ValidationFailed("Record the promise: amount, date and invoices.", fields={"promise": ["required"]})
    if outcome == ActivityOutcome.DISPUTED and not dispute:
        raise ValidationFailed("Record the dispute: invoice, reason and amount.", fields={"dispute": ["required"]})
    promise_row = dispute_row = None
    if promise:
        promise_row = promise_take(customer_id=customer_id, by=by, promised_date=promise["promised_date"],
                                   invoice_ids=list(promise["invoice_ids"]), amount=promise.get("amount"),
                                   channel={"call": "call", "email": "email", "meeting": "meeting"}.get(kind, "call"),
                                   note=promise.get("note") or note)
        next_action_date = next_action_date or promise_row.promised_date + dt.timedelta(days=promise_row.grace_days + 1)
        next_action = next_action or f"Check the promised payment of {promise_row.promised_date:%Y-%m-%d}"
    if dispute:
        from billing.models import Invoice

        disputed = dispute.get("invoice_id")
        if disputed is None or not Invoice.objects.filter(pk=disputed, customer_id=customer_id).exists():
            raise ValidationFailed("The disputed invoice is not the customer's.", fields={"dispute": ["invoice"]})
        dispute_row = dispute_open(invoice_id=dispute["invoice_id"], by=by, reason=dispute.get("reason", ""),
                                   amount=dispute.get("amount"), lines=dispute.get("lines"),
                                   description=dispute.get("description") or note, owner_id=dispute.get("owner_id"),
                                   due_date=dispute.get("due_date"))
    return Activity.objects.create(
        customer_id=customer_id, kind=kind, outcome=outcome, contact_id=contact_id, note=(note or "").strip(),
        next_action=(next_action or "").strip()[:200], next_action_date=next_action_date, promise=promise_row,
        dispute=dispute_row, by=by, at=when)


def statement_send(*, customer_id: int, by: User, legal_entity_id: int, currency: str,
                   date_from: dt.date | None = None, date_to: dt.date | None = None) -> Any:
    """E-mail the customer's statement (receivables renders and sends it, and records it for the
    timeline); default period: the last 90 days."""
    from receivables.statements import statement_email

    if not by.has_perm(WORK):
        raise PermissionDenied("You may not send statements from collections.")
    date_to = date_to or dates.today()
    date_from = date_from or date_to - dt.timedelta(days=90)
    return statement_email(customer_id=customer_id, legal_entity_id=legal_entity_id, currency=currency,
                           date_from=date_from, date_to=date_to, by=by)


def next_action_of(customer: Customer) -> tuple[str, dt.date | None]:
    row = (Activity.objects.filter(customer=customer).exclude(kind=ActivityKind.STATEMENT)
           .order_by("-at", "-id").values_list("next_action", "next_action_date").first())
    return row or ("", None)


