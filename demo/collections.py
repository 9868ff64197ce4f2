"""Demo: the collector's last month (issue 10: worklist, disputes, promises).

The finance manager sets an assignment rule per entity and applies it: Cole Carter (`collector`)
works every customer. Over the last four weeks he calls, e-mails and meets the customers with
overdue invoices, logging each contact with its outcome and next action:

- A promises to pay its oldest invoice; the money arrives and the promise is kept. He also sends A
  its statement.
- B promises and does not pay: the promise is broken after the grace period (he is e-mailed and B
  climbs the worklist).
- C disputes the price of an invoice; it is resolved by a credit note for 10% (requested from the
  dispute, approved by the manager, issued by billing: the dispute closes when it is issued).
- D says it never received the service; delivery is proven and the dispute is rejected.
- E agrees a payment plan of three monthly instalments; the first is paid and kept.
- F raises a quantity dispute that is still open; a few others did not answer (next actions due).
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager, suppress
from decimal import Decimal

from billing.models import Invoice
from otc import dates
from otc.errors import DomainError
from otc.models import User
from otc.money import quantize

D = Decimal


@contextmanager
def _on(day: dt.date, hour: int = 10):
    from django.utils import timezone

    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 15)))
    original_now, original_today = dates.now, dates.today
    dates.now, dates.today = (lambda: moment), (lambda: day)
    try:
        yield moment
    finally:
        dates.now, dates.today = original_now, original_today


def _pay(invoice: Invoice, amount: Decimal, day: dt.date, cashapp: User, reference: str) -> None:
    from receivables.models import BankAccount
    from receivables.services import receipt_apply, receipt_record

    account = BankAccount.objects.filter(legal_entity_id=invoice.legal_entity_id, currency=invoice.currency).first()
    if account is None:
        return
    receipt = receipt_record(by=cashapp, data={
        "bank_account_id": account.pk, "value_date": day, "amount": amount, "customer_id": invoice.customer_id,
        "bank_reference": reference, "payer_name": invoice.customer.legal_name, "payer_account": "",
        "remittance": f"{invoice.number}"})
    receipt_apply(receipt_id=receipt.pk, allocations=[(invoice.pk, amount)], by=cashapp,
                  reason=f"Paid as promised to collections ({invoice.number})")


def _candidates(today: dt.date) -> list[list[Invoice]]:
    """Per customer (oldest overdue first), its unpaid overdue invoices untouched by other stories."""
    from billing.models import CreditNote

    touched = set(CreditNote.objects.values_list("invoice_id", flat=True))
    rows = (Invoice.objects.filter(status=Invoice.Status.ISSUED, amount_paid=0, amount_credited=0,
                                   due_date__lt=today, gross_total__gt=100)
            .exclude(pk__in=touched).select_related("customer", "legal_entity").order_by("due_date", "pk"))
    by_customer: dict[int, list[Invoice]] = {}
    for invoice in rows:
        by_customer.setdefault(invoice.customer_id, []).append(invoice)
    return list(by_customer.values())


def seed_collections(*, users: dict[str, User], today: dt.date) -> dict[str, int]:
    from collections_app.models import Activity, Dispute, PromiseToPay
    from collections_app.services.activities import activity_log, statement_send
    from collections_app.services.disputes import (
        dispute_reject,
        dispute_resolve_by_credit_note,
        dispute_start,
    )
    from collections_app.services.portfolio import assignment_rule_create, portfolio_apply_rules
    from collections_app.services.promises import payment_plan_create, promises_evaluate
    from ledger.models import LegalEntity

    cole, manager, cashapp, billing = users["collector"], users["manager"], users["cashapp"], users["billing"]
    for n, entity in enumerate(LegalEntity.objects.order_by("code"), start=1):
        assignment_rule_create(by=manager, collector_id=cole.pk, priority=10 * n, legal_entity_id=entity.pk)
    assignment_rule_create(by=manager, collector_id=cole.pk, priority=1000)
    portfolio_apply_rules(by=manager)

    groups = _candidates(today)
    if len(groups) < 6:
        return {"activities": 0}
    a, b, c, d, e, f, *others = groups
    start = today - dt.timedelta(days=27)

    def day(n: int) -> dt.date:
        return min(start + dt.timedelta(days=n), today)

    def log(n: int, invoices: list[Invoice], kind: str, outcome: str, note: str, **kw):
        with _on(day(n), 9 + n % 7):
            contact = invoices[0].customer.contacts.order_by("pk").first()
            return activity_log(customer_id=invoices[0].customer_id, by=cole, kind=kind, outcome=outcome, note=note,
                                contact_id=contact.pk if contact else None, **kw)

    # A: no answer, then a promise that is kept (and a statement sent)
    log(0, a, "call", "no_answer", "Voicemail of accounts payable.", next_action="Call again",
        next_action_date=day(2))
    log(2, a, "call", "promised", "AP confirms the invoice is approved for the next payment run.",
        promise={"promised_date": day(9), "invoice_ids": [a[0].pk]})
    with _on(day(2)), suppress(DomainError):  # no billing contact: the demo goes on without the statement
        statement_send(customer_id=a[0].customer_id, by=cole, legal_entity_id=a[0].legal_entity_id,
                       currency=a[0].currency)
    with _on(day(8)):
        _pay(a[0], a[0].balance_due, day(8), cashapp, f"COLL-{a[0].number}")
        promises_evaluate(as_of=day(8), customer_ids=[a[0].customer_id])

    # B: a promise, then nothing: broken after the grace period
    log(1, b, "call", "promised", "Treasurer promises payment by the end of next week.",
        promise={"promised_date": day(6), "invoice_ids": [i.pk for i in b[:2]]})
    with _on(day(11)):
        promises_evaluate(as_of=day(11), customer_ids=[b[0].customer_id])
    log(12, b, "email", "left_message", "Reminded the treasurer of the broken promise; escalating to the CFO.",
        next_action="Call the CFO", next_action_date=today)

    # C: a price dispute resolved by a 10% credit note
    credit = quantize(c[0].gross_total / 10, c[0].currency)
    activity_c = log(3, c, "email", "disputed", "Customer says the renewal price ignores the agreed 10% discount.",
                     dispute={"invoice_id": c[0].pk, "reason": "price", "amount": credit,
                              "description": "Agreed 10% renewal discount missing"})
    with _on(day(4)):
        dispute_start(dispute_id=activity_c.dispute_id, by=cole, note="Checked with the account manager")
        note = dispute_resolve_by_credit_note(dispute_id=activity_c.dispute_id, by=cole,
                                              explanation="Renewal discount of 10% agreed in the contract amendment")
    from billing.services import credit_note_approve, credit_note_issue

    with _on(day(5)):
        credit_note_approve(credit_note_id=note.pk, by=manager, note="Discount confirmed by sales")
    with _on(day(6)):
        credit_note_issue(credit_note_id=note.pk, by=billing, issue_date=day(6))

    # D: "not received", proven delivered: rejected, back to chasing
    activity_d = log(4, d, "call", "disputed", "Customer claims the onboarding workshop never took place.",
                     dispute={"invoice_id": d[0].pk, "reason": "not_received",
                              "description": "Onboarding workshop not received"})
    with _on(day(10)):
        dispute_reject(dispute_id=activity_d.dispute_id, by=cole,
                       note="Attendance list and sign-off sheet sent to the customer; the workshop took place.")
    log(10, d, "email", "reached", "Sent the signed attendance list; asked for payment within 7 days.",
        next_action="Check payment", next_action_date=day(17))

    # E: a payment plan of three monthly instalments; the first one paid
    total = sum((i.balance_due for i in e), D(0))
    share = quantize(total / 3, e[0].currency)
    with _on(day(14)):
        plan = payment_plan_create(customer_id=e[0].customer_id, by=cole, invoice_ids=[i.pk for i in e],
                                   instalments=[(day(18), share), (day(18) + dt.timedelta(days=30), share),
                                                (day(18) + dt.timedelta(days=60), total - 2 * share)],
                                   note="Cash-flow difficulties after a lost contract; plan agreed with the CFO.",
                                   channel="meeting")
    log(14, e, "meeting", "reached", f"Payment plan {plan[0].plan_reference} agreed: three monthly instalments.",
        next_action="Check the first instalment", next_action_date=day(19))
    with _on(day(18)):
        _pay(e[0], min(share, e[0].balance_due), day(18), cashapp, f"PLAN-{e[0].number}")
        promises_evaluate(as_of=day(18), customer_ids=[e[0].customer_id])

    # F: a quantity dispute still open
    log(20, f, "call", "disputed", "Customer counts 40 seats, we billed 45.",
        dispute={"invoice_id": f[0].pk, "reason": "quantity",
                 "amount": quantize(f[0].gross_total / 9, f[0].currency),
                 "description": "5 of 45 seats contested"})

    # the rest: no answer or a message left; next actions due over the coming days
    for n, group in enumerate(others[:8]):
        outcome = ("no_answer", "left_message", "paid_claimed", "reached")[n % 4]
        log(15 + n, group, "call" if n % 3 else "email", outcome,
            {"no_answer": "No answer.", "left_message": "Left a message with reception.",
             "paid_claimed": "Says it paid last week; asked for the remittance advice.",
             "reached": "Invoice in approval; call back next week."}[outcome],
            next_action="Follow up", next_action_date=max(day(15 + n) + dt.timedelta(days=4), today))

    with _on(today, 7):
        promises_evaluate(as_of=today)
    return {"activities": Activity.objects.count(), "disputes": Dispute.objects.count(),
            "promises": PromiseToPay.objects.count()}
