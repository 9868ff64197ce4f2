"""Where a new ticket goes: the queue per category and legal entity (created with default SLA
policies), its priority, and the next agent in the queue's round robin."""

from __future__ import annotations

from decimal import Decimal

from billing.models import Invoice
from contracts.models import Contract
from customers.models import Customer
from ledger.models import LegalEntity
from otc.errors import ValidationFailed
from otc.models import User
from receivables.models import Receipt

from .. import conf
from ..models import (
    PRIORITY_ORDER,
    BusinessCalendar,
    Category,
    Priority,
    Queue,
    SlaPolicy,
)

ROUTES: dict[str, str] = {
    Category.INVOICE_COPY: Queue.Kind.BILLING,
    Category.BILLING_QUESTION: Queue.Kind.BILLING,
    Category.CREDIT_REQUEST: Queue.Kind.BILLING,
    Category.DISPUTE: Queue.Kind.COLLECTIONS,
    Category.PAYMENT_STATUS: Queue.Kind.CASH_APPLICATION,
    Category.PORTAL_PROBLEM: Queue.Kind.BILLING,
    Category.DATA_CHANGE: Queue.Kind.BILLING,
    Category.CONTRACT_QUESTION: Queue.Kind.CONTRACT_REVIEW,
    Category.OTHER: Queue.Kind.BILLING,
}
BASE_PRIORITY: dict[str, Priority] = {
    Category.INVOICE_COPY: Priority.LOW,
    Category.BILLING_QUESTION: Priority.NORMAL,
    Category.CREDIT_REQUEST: Priority.NORMAL,
    Category.DISPUTE: Priority.HIGH,
    Category.PAYMENT_STATUS: Priority.LOW,
    Category.PORTAL_PROBLEM: Priority.HIGH,
    Category.DATA_CHANGE: Priority.NORMAL,
    Category.CONTRACT_QUESTION: Priority.NORMAL,
    Category.OTHER: Priority.LOW,
}
# Business minutes (first response, resolution) a new queue starts with, per priority.
DEFAULT_SLA: dict[str, tuple[int, int]] = {
    Priority.URGENT: (60, 8 * 60), Priority.HIGH: (2 * 60, 16 * 60),
    Priority.NORMAL: (4 * 60, 32 * 60), Priority.LOW: (8 * 60, 48 * 60),
}


def queue_ensure(*, legal_entity: LegalEntity, kind: str) -> Queue:
    """The entity's queue of this kind, created with the default SLA policies the first time."""
    queue, created = Queue.objects.get_or_create(legal_entity=legal_entity, kind=kind)
    if created:
        SlaPolicy.objects.bulk_create([
            SlaPolicy(queue=queue, priority=p, first_response_minutes=fr, resolution_minutes=res)
            for p, (fr, res) in DEFAULT_SLA.items()
        ])
        BusinessCalendar.objects.get_or_create(legal_entity=legal_entity)
    return queue


def entity_for(customer: Customer | None, invoice: Invoice | None, contract: Contract | None,
                receipt: Receipt | None) -> LegalEntity:
    for record in (invoice, contract, receipt):
        if record is not None:
            return record.legal_entity
    if customer is not None:
        last = Invoice.objects.filter(customer=customer).order_by("-id").select_related("legal_entity").first()
        if last is not None:
            return last.legal_entity
    entity = LegalEntity.objects.filter(is_active=True).order_by("code").first()
    if entity is None:
        raise ValidationFailed("No legal entity is set up to receive tickets.")
    return entity


def priority_for(category: str, *, amount: Decimal | None, customer: Customer | None) -> str:
    """From the category, raised one step for a large amount and one for a large customer."""
    step = PRIORITY_ORDER.index(BASE_PRIORITY[category])
    if amount is not None and amount >= Decimal(conf.get("HELPDESK_LARGE_AMOUNT")):
        step += 1
    if customer is not None and customer.credit_limit >= Decimal(conf.get("HELPDESK_LARGE_CUSTOMER_LIMIT")):
        step += 1
    return PRIORITY_ORDER[min(step, len(PRIORITY_ORDER) - 1)]


def round_robin_agent(queue_id: int) -> User | None:
    """The next member after the queue's cursor (members in id order), under a lock on the queue."""
    queue = Queue.objects.select_for_update(of=("self",)).get(pk=queue_id)
    members = list(queue.members.filter(is_active=True).order_by("id"))
    if not members:
        return None
    after = [m for m in members if queue.last_assigned_id is None or m.id > queue.last_assigned_id]
    chosen = (after or members)[0]
    Queue.objects.filter(pk=queue_id).update(last_assigned=chosen)
    return chosen
