"""Demo write-offs (issue 11): each entity's policy (the EUR entity takes VAT bad-debt relief, the
GBP one books recoveries as income and has no allowance), a bankruptcy write-off approved and
posted, one rejected, an opening balance written off as time-barred, one written off and then
paid (a recovery through cash application), one awaiting approval, and a small-balance batch
approved and posted. Everything goes through the services, by the demo users of each role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.models import Invoice
from collections_app.models import Dispute, WriteOffPolicy
from collections_app.models.disputes import OPEN_DISPUTE_STATUSES
from collections_app.services.writeoffs import (
    batch_approve,
    batch_post,
    batch_submit,
    small_balance_batch_propose,
    writeoff_approve,
    writeoff_attach,
    writeoff_post,
    writeoff_reject,
    writeoff_request,
)
from ledger.models import Account, LegalEntity, OpenItem
from otc.models import User
from receivables.models import BankAccount
from receivables.services import receipt_apply, receipt_record

MAX_SINGLE = Decimal("30000")  # above 5,000 a second approver (the Controller, limit 100,000) decides


def _policies() -> None:
    for entity in LegalEntity.objects.order_by("code"):
        WriteOffPolicy.objects.update_or_create(legal_entity=entity, defaults={
            "vat_relief": entity.functional_currency == "EUR",
            "use_allowance": entity.functional_currency != "GBP",
            "recovery_mode": "income" if entity.functional_currency == "GBP" else "reinstate",
            "second_approval_above": Decimal("5000.00"),
            "small_balance_enabled": True, "small_balance_max": Decimal("250.00"), "small_balance_min_age_days": 30,
        })


def _candidates(today: dt.date, exclude: set[int]) -> list[Invoice]:
    """Overdue invoices (oldest first), not disputed, with something left due."""
    disputed = set(Dispute.objects.filter(status__in=OPEN_DISPUTE_STATUSES).values_list("invoice_id", flat=True))
    rows = (Invoice.objects.filter(status=Invoice.Status.ISSUED, amount_paid=0,  # the partly paid stay for cash
                                   due_date__lt=today, gross_total__gt=Decimal("300"), gross_total__lte=MAX_SINGLE)
            .select_related("legal_entity", "customer").order_by("due_date", "pk"))
    return [i for i in rows if i.pk not in disputed and i.pk not in exclude and i.balance_due > 0]


def seed_writeoffs(*, users: dict[str, User], today: dt.date) -> dict[str, int]:
    collector, manager, controller = users["collector"], users["manager"], users["controller"]
    _policies()
    used: set[int] = set()
    counts = {"posted": 0, "rejected": 0, "submitted": 0, "recovered": 0, "batches": 0}

    def take() -> Invoice | None:
        rows = _candidates(today, used)
        if rows:
            used.add(rows[0].pk)
            return rows[0]
        return None

    # a bankruptcy: requested with the court notice, approved, posted against the allowance
    if invoice := take():
        wo = writeoff_request(invoice_ids=[invoice.pk], reason="bankruptcy", by=collector,
                              explanation="Insolvency proceedings opened; the administrator expects no dividend.")
        writeoff_attach(write_off_id=wo.pk, name="insolvency-notice.pdf", by=collector,
                        content=b"%PDF-1.4\n% demo: court notice of insolvency proceedings\n")
        writeoff_approve(write_off_id=wo.pk, by=manager, note="Notice checked")
        if wo.required_approvals > 1:
            writeoff_approve(write_off_id=wo.pk, by=controller)
        writeoff_post(write_off_id=wo.pk, by=controller)
        counts["posted"] += 1
    # rejected: the customer is still paying
    if invoice := take():
        wo = writeoff_request(invoice_ids=[invoice.pk], reason="agency", by=collector,
                              explanation="Agency returned it as uncollectible.")
        writeoff_reject(write_off_id=wo.pk, by=manager, note="The customer agreed a payment plan last week: keep chasing.")
        counts["rejected"] += 1
    # written off, then the customer paid after all: a recovery through cash application
    if invoice := take():
        wo = writeoff_request(invoice_ids=[invoice.pk], reason="deceased", by=collector,
                              explanation="The company was dissolved; struck off the register.")
        writeoff_approve(write_off_id=wo.pk, by=manager)
        if wo.required_approvals > 1:
            writeoff_approve(write_off_id=wo.pk, by=controller)
        writeoff_post(write_off_id=wo.pk, by=controller)
        counts["posted"] += 1
        due = invoice.balance_due
        bank = BankAccount.objects.filter(legal_entity_id=invoice.legal_entity_id, currency=invoice.currency,
                                          is_active=True).order_by("pk").first()
        if bank is not None:
            receipt = receipt_record(by=users["cashapp"], data={
                "bank_account_id": bank.pk, "value_date": today, "amount": due,
                "customer_id": invoice.customer_id, "payer_name": invoice.customer.legal_name[:200],
                "remittance": f"Liquidator distribution {invoice.number}", "bank_reference": f"LIQ-{invoice.number}"})
            receipt_apply(receipt_id=receipt.pk, allocations=[(invoice.pk, due)], by=users["cashapp"],
                          reason="Liquidator's distribution: recovery of a written-off invoice")
            counts["recovered"] += 1
    # awaiting approval: for the demo's Finance Manager to decide
    if invoice := take():
        writeoff_request(invoice_ids=[invoice.pk], reason="settlement", by=collector,
                         explanation="Settlement agreed at 0 after the service outage; the rest is waived.")
        counts["submitted"] += 1
    # an opening balance (migrated, no invoice) past the statute of limitations
    item = (OpenItem.objects.filter(account__role=Account.Role.AR, open_amount__gt=0, original_amount__lte=MAX_SINGLE)
            .exclude(document_type="invoice").order_by("due_date", "pk").first())
    if item is not None:
        wo = writeoff_request(open_item_ids=[item.pk], reason="limitation", by=collector,
                              explanation="Time-barred: more than three years since the last acknowledgement.")
        writeoff_approve(write_off_id=wo.pk, by=manager)
        if wo.required_approvals > 1:
            writeoff_approve(write_off_id=wo.pk, by=controller)
        writeoff_post(write_off_id=wo.pk, by=controller)
        counts["posted"] += 1
    # the month's small balances: proposed by the collector (the button), approved at once, posted
    for entity in LegalEntity.objects.order_by("code"):
        batch = small_balance_batch_propose(legal_entity_id=entity.pk, as_of=today, by=collector)
        if batch is None or batch.status != "draft":
            continue
        batch_submit(batch_id=batch.pk, by=collector)
        batch_approve(batch_id=batch.pk, by=manager, note="Below the small-balance threshold")
        batch_post(batch_id=batch.pk, by=controller)
        counts["batches"] += 1
        break
    return counts
