"""The demo's help desk: calendars with holidays, a queue per entity and team with its SLA
policies, canned replies, and a month of tickets the three reps filed in every category, worked by
the help-desk agent through the real services on the days they happened: answered in time and late
(SLAs met and breached), waiting on the rep (the clock paused) and on the customer, a credit
request that became an issued credit note (and one rejected), a customer data change approved and
applied to the master file (and one rejected), a reply by e-mail, rated resolutions, and a few
tickets still new so the queue has work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal

from django.db.models import Q

from billing.models import CreditNote, Invoice
from billing.services import credit_note_approve, credit_note_issue, credit_note_reject
from contracts.models import Contract
from helpdesk.models import BusinessCalendar, CannedReply, Holiday, Queue, Ticket
from helpdesk.services import (
    InboundMail,
    action_credit_request,
    action_payment_status,
    action_portal_resend,
    action_send_invoice_copy,
    data_change_approve,
    data_change_reject,
    mail_receive,
    queue_ensure,
    ticket_comment,
    ticket_file,
    ticket_rate,
    ticket_transition,
    tickets_close_resolved,
    tickets_follow_credit_notes,
    tickets_sla_sweep,
)
from ledger.models import LegalEntity
from otc import dates
from otc.models import User

TIMEZONES = {"US": "America/New_York", "DE": "Europe/Berlin", "GB": "Europe/London"}
HOLIDAYS = {  # (month, day, name) each year
    "US": [(1, 1, "New Year's Day"), (7, 4, "Independence Day"), (11, 26, "Thanksgiving"), (12, 25, "Christmas Day")],
    "DE": [(1, 1, "Neujahr"), (5, 1, "Tag der Arbeit"), (10, 3, "Tag der Deutschen Einheit"), (12, 25, "1. Weihnachtstag"),
           (12, 26, "2. Weihnachtstag")],
    "GB": [(1, 1, "New Year's Day"), (12, 25, "Christmas Day"), (12, 26, "Boxing Day")],
}
CANNED = [
    ("Invoice copy sent", "invoice_copy", "Hi {requester},\n\nI have attached a copy of {invoice} for {customer}.\n\n{agent}"),
    ("Need the remittance", "payment_status", "Hi {requester},\n\nWe cannot find the payment for {invoice} yet. Could you "
     "ask {customer} for the remittance advice (date, amount, bank reference)?\n\n{agent}"),
    ("Credit requested", "credit_request", "Hi {requester},\n\nI have requested the credit note on {invoice}; you will "
     "hear from me when it is approved and issued.\n\n{agent}"),
    ("Waiting on the customer", "", "Hi {requester},\n\nWe have asked {customer} and are waiting for their answer "
     "({reference}).\n\n{agent}"),
]


@contextmanager
def _at(moment: dt.datetime):
    original_now, original_today = dates.now, dates.today
    dates.now, dates.today = (lambda: moment), (lambda: moment.date())
    try:
        yield
    finally:
        dates.now, dates.today = original_now, original_today


def _workday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def seed_setup(*, users: dict[str, User], today: dt.date) -> list[Queue]:
    queues = []
    for entity in LegalEntity.objects.order_by("code"):
        calendar, _ = BusinessCalendar.objects.get_or_create(
            legal_entity=entity, defaults={"timezone": TIMEZONES.get(entity.country, "UTC")})
        known = set(calendar.holidays.values_list("date", flat=True))
        Holiday.objects.bulk_create([
            Holiday(calendar=calendar, date=dt.date(year, month, day), name=name)
            for year in (today.year - 1, today.year) for month, day, name in HOLIDAYS.get(entity.country, [])
            if dt.date(year, month, day) not in known])
        for kind in Queue.Kind.values:
            queue = queue_ensure(legal_entity=entity, kind=kind)
            queue.members.add(users["helpdesk"])
            if queue.team_lead_id is None:
                queue.team_lead = users["manager"]
                queue.save(update_fields=["team_lead"])
            queues.append(queue)
    for title, category, body in CANNED:
        CannedReply.objects.get_or_create(title=title, defaults={"category": category, "body": body})
    return queues


class _Month:
    def __init__(self, users: dict[str, User], today: dt.date) -> None:
        self.users, self.today = users, today
        self.agent, self.steps = users["helpdesk"], []

    def at(self, day_offset: int, hour: int, minute: int, action: Callable[[], object], after: int = 0) -> None:
        """`after` working days after the working day `day_offset` days ago (a scenario's steps keep
        their order whatever weekday it starts on)."""
        day = _workday(self.today - dt.timedelta(days=day_offset))
        for _ in range(after):
            day = _workday(day + dt.timedelta(days=1))
        day = min(day, self.today)
        self.steps.append((dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC), action))

    def run(self) -> None:
        for moment, action in sorted(self.steps, key=lambda s: s[0]):
            with _at(moment):
                action()


def _invoices(rep: User) -> list[Invoice]:
    return list(Invoice.objects.filter(customer__sales_owner=rep).exclude(status__in=["draft", "void"])
                .select_related("customer").order_by("-issue_date", "id")[:40])


def seed_helpdesk(*, users: dict[str, User], today: dt.date) -> dict[str, int]:
    """The month described in the module docstring; returns tickets by status."""
    if Ticket.objects.exists():
        return {}
    seed_setup(users=users, today=today)
    month = _Month(users, today)
    agent, billing, manager = users["helpdesk"], users["billing"], users["manager"]
    box: dict[str, Ticket] = {}

    def file(key: str, rep: User, **kw) -> Callable[[], None]:
        def go() -> None:
            box[key] = ticket_file(by=rep, **kw)
        return go

    def later(fn: Callable[[Ticket], object], key: str) -> Callable[[], None]:
        return lambda: fn(box[key])

    for n, rep in enumerate((users["sales1"], users["sales2"], users["sales3"])):
        invoices = _invoices(rep)
        if len(invoices) < 4:
            continue
        paid = next((i for i in invoices if i.amount_paid > 0), invoices[0])
        unpaid = next((i for i in invoices if i.amount_paid == 0 and i.status == "issued"), invoices[1])
        customer = invoices[0].customer
        contract = Contract.objects.filter(Q(customer__sales_owner=rep)).order_by("id").first()
        o = n * 2  # each rep's month is shifted a little
        k = f"r{n}-"
        # invoice copy: answered within the hour, rated
        month.at(27 - o, 9, 15, file(k + "copy", rep, category="invoice_copy", subject=f"Copy of {invoices[2].number}",
                                     description="The customer's AP team cannot find it.", invoice_id=invoices[2].pk))
        month.at(27 - o, 10, 5, later(lambda t: action_send_invoice_copy(ticket_id=t.pk, by=agent), k + "copy"))
        month.at(27 - o, 11, 0, later(lambda t: ticket_rate(ticket_id=t.pk, score=5), k + "copy"))
        # payment status: filed after the self-service answer, answered from the books
        month.at(25 - o, 14, 0, file(k + "paid", rep, category="payment_status", subject=f"Has {customer.name} paid?",
                                     description="They say the money went out last week.", invoice_id=paid.pk,
                                     self_service_shown=True))
        month.at(25 - o, 14, 40, later(lambda t: action_payment_status(ticket_id=t.pk, by=agent), k + "paid"))
        month.at(25 - o, 16, 0, later(lambda t, n=n: ticket_rate(ticket_id=t.pk, score=4 - (n == 2)), k + "paid"))
        # credit request: issued for the first rep, rejected for the second, awaiting approval for the third
        amount = min(Decimal("250.00"), (unpaid.net_total / 4).quantize(Decimal("0.01")))
        month.at(22 - o, 10, 0, file(k + "credit", rep, category="credit_request", subject=f"Credit on {unpaid.number}",
                                     description="Two seats were cancelled mid-month; the customer wants them credited.",
                                     invoice_id=unpaid.pk, amount=amount, details={"credit_reason": "cancellation"}))
        month.at(22 - o, 11, 30, later(lambda t: action_credit_request(ticket_id=t.pk, by=agent, reason="cancellation"),
                                       k + "credit"))
        if n == 0:
            month.at(22 - o, 9, 30, after=1, action=later(lambda t: credit_note_approve(
                credit_note_id=Ticket.objects.get(pk=t.pk).credit_note_id, by=manager,
                note="Seats cancelled per the amendment."), k + "credit"))
            month.at(22 - o, 13, 0, after=1, action=later(lambda t: credit_note_issue(
                credit_note_id=Ticket.objects.get(pk=t.pk).credit_note_id, by=billing), k + "credit"))
        elif n == 1:
            month.at(22 - o, 9, 30, after=2, action=later(lambda t: credit_note_reject(
                credit_note_id=Ticket.objects.get(pk=t.pk).credit_note_id, by=manager,
                note="The contract bills whole months; cancelled seats end at the month's end."), k + "credit"))
        month.at(22 - o, 15, 0, after=2, action=lambda: tickets_follow_credit_notes())
        # dispute: worked by Collections, waiting on the customer
        month.at(19 - o, 9, 0, file(k + "dispute", rep, category="dispute", subject=f"{customer.name} disputes the price",
                                    description="They say the renewal price was agreed 10% lower.",
                                    invoice_id=invoices[1].pk, amount=Decimal("120.00"),
                                    details={"dispute_reason": "Renewal price"}))
        month.at(19 - o, 15, 30, later(lambda t: ticket_comment(ticket_id=t.pk, by=agent, body=(
            "We have asked the customer for the signed renewal quote.")), k + "dispute"))
        month.at(19 - o, 15, 31, later(lambda t: ticket_transition(ticket_id=t.pk, by=agent, to="waiting_customer"),
                                       k + "dispute"))
        # portal problem: queued again for upload
        month.at(16 - o, 11, 0, file(k + "portal", rep, category="portal_problem", subject="Portal rejected the invoice",
                                     description="The portal says the PO is closed.", invoice_id=invoices[3].pk,
                                     details={"portal_message": "PO closed"}))
        if invoices[3].customer.procurement_portal != "none":
            month.at(16 - o, 12, 0, later(lambda t: action_portal_resend(ticket_id=t.pk, by=agent), k + "portal"))
        else:
            month.at(16 - o, 12, 0, later(lambda t: ticket_comment(ticket_id=t.pk, by=agent, body=(
                "This customer receives invoices by e-mail; I have re-sent it to their AP address.")), k + "portal"))
            month.at(16 - o, 12, 1, later(lambda t: ticket_transition(ticket_id=t.pk, by=agent, to="resolved"),
                                          k + "portal"))
        # data change: applied for the first rep, rejected for the third, awaiting the specialist for the second
        month.at(14 - o, 10, 0, file(k + "data", rep, category="data_change", subject=f"{customer.name} moved",
                                     description="New office from the 1st; invoices to the new AP mailbox.",
                                     customer_id=customer.pk,
                                     details={"changes": {"address_line1": f"{100 + n} Harbour Street",
                                                          "postal_code": customer.postal_code or "",
                                                          "billing_email": f"ap-new-{n}@{customer.pk}.example"}}))
        if n == 0:
            month.at(14 - o, 9, 45, after=1, action=later(lambda t: data_change_approve(request_id=t.data_change.pk, by=billing),
                                          k + "data"))
        elif n == 2:
            month.at(14 - o, 9, 45, after=1, action=later(lambda t: data_change_reject(
                request_id=t.data_change.pk, by=billing, note="The customer's own letter is needed for an address "
                                                              "change; please attach it."), k + "data"))
        # contract question: answered late (first response and resolution SLA breached)
        if contract is not None:
            month.at(12 - o, 9, 0, file(k + "contract", rep, category="contract_question",
                                        subject=f"Renewal terms of {contract.number}",
                                        description="Does the renewal keep the discount?", contract_id=contract.pk))
            month.at(12 - o, 16, 0, after=4, action=later(lambda t: ticket_comment(ticket_id=t.pk, by=agent, body=(
                "Sorry for the wait: the discount applies to the first term only.")), k + "contract"))
            month.at(12 - o, 16, 5, after=4, action=later(lambda t: ticket_transition(ticket_id=t.pk, by=agent, to="resolved"),
                                         k + "contract"))
        # billing question: waiting on the rep (paused), the rep answers by e-mail, resolved
        month.at(10 - o, 13, 0, file(k + "question", rep, category="billing_question", customer_id=customer.pk,
                                     subject="Why two invoices this month?", description="The customer got two invoices.",
                                     invoice_id=invoices[0].pk))
        month.at(10 - o, 14, 0, later(lambda t: ticket_comment(ticket_id=t.pk, by=agent, body=(
            "One is the monthly fee, the other the usage for last month. Which one is unclear to them?")), k + "question"))
        month.at(10 - o, 14, 1, later(lambda t: ticket_transition(ticket_id=t.pk, by=agent, to="waiting_requester"),
                                      k + "question"))
        if n != 1:
            month.at(10 - o, 9, 30, after=2, action=later(lambda t, r=rep: mail_receive(mail=InboundMail(
                message_id=f"<demo-{t.reference.lower()}@mail.otc.example>", sender=r.email,
                subject=f"Re: [{t.reference}] {t.subject}", body="The usage one: it lists a product they do not use.")),
                k + "question"))
        # other: still new, one recent and one old enough to breach
        month.at(4, 10, 0, file(k + "other", rep, category="other", customer_id=customer.pk,
                                subject="Who is our billing contact at finance?", description="New to the account."))
        month.at(0, 9, 0, file(k + "new", rep, category="payment_status", invoice_id=unpaid.pk,
                               subject=f"Payment of {unpaid.number}?", description="Customer promised payment."))
    month.run()
    now = dt.datetime.combine(today, dt.time(12, 0), tzinfo=dt.UTC)
    with _at(now):
        tickets_follow_credit_notes()
        tickets_close_resolved()
        tickets_sla_sweep()
    counts: dict[str, int] = {}
    for status in Ticket.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    counts["credit_notes_issued"] = CreditNote.objects.filter(status="issued", pk__in=Ticket.objects.values(
        "credit_note")).count()
    return counts
