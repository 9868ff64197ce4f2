"""Write-offs: request, approval chain by amount, posting (allowance, expense, VAT relief), the
invoice written off, and every refusal (own approval, disputed invoice, closed period...)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Invoice
from collections_app.models import WriteOff, WriteOffPolicy
from collections_app.selectors.writeoffs import account_balance, excluded_from_collection, not_written_off_q
from collections_app.services.writeoffs import (
    writeoff_approve,
    writeoff_post,
    writeoff_reject,
    writeoff_request,
)
from ledger.models import OpenItem, Period
from ledger.selectors import ar_reconciliation
from otc.errors import (
    Conflict,
    DomainError,
    LimitExceeded,
    PermissionDenied,
    SegregationOfDuties,
    ValidationFailed,
)
from tests.factories.collections import DisputeFactory
from tests.factories.collections_writeoffs import book
from tests.factories.ledger import post_invoice
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
ON = dt.date(2026, 6, 30)


@pytest.fixture
def b(today):
    today(ON)
    return book()


def entry_lines(write_off) -> list[tuple[str, Decimal]]:
    return sorted((line.account.code, line.amount) for line in write_off.journal_entry.lines.select_related("account"))


def reconciled(entity) -> bool:
    return all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))


def request(b, invoices=None, **kw):
    return writeoff_request(invoice_ids=[i.pk for i in (invoices or b["invoices"][:1])], reason="bankruptcy",
                            explanation="Insolvency filed 2026-05-02", by=b["collector"], **kw)


def test_an_approved_write_off_posts_against_the_allowance_and_the_invoice_is_written_off(b):
    invoice = b["invoices"][0]
    write_off = request(b)
    assert (write_off.status, write_off.amount, write_off.required_approvals) == ("submitted", D("1190.0000"), 1)
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    write_off = writeoff_post(write_off_id=write_off.pk, by=b["controller"])
    assert write_off.status == "posted" and write_off.debit_role == "allowance"
    assert entry_lines(write_off) == [("1100", D("-1190.0000")), ("1190", D("1190.0000"))]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_written_off, invoice.balance_due) == ("written_off", D("1190.0000"), 0)
    assert OpenItem.objects.get(pk=invoice.open_item_id).open_amount == 0
    assert account_balance(legal_entity_id=b["entity"].pk, role="allowance") == D("1190.0000")
    assert reconciled(b["entity"])
    assert excluded_from_collection(invoice_ids=[i.pk for i in b["invoices"]]) == {invoice.pk}
    assert list(Invoice.objects.filter(not_written_off_q(), customer=b["customer"])) == [b["invoices"][1]]


def test_without_an_allowance_it_posts_to_bad_debt_expense_and_vat_relief_reclaims_the_tax(b):
    WriteOffPolicy.objects.create(legal_entity=b["entity"], use_allowance=False, vat_relief=True)
    write_off = request(b, invoices=b["invoices"])  # 1,190.00 + 595.00
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    write_off = writeoff_post(write_off_id=write_off.pk, by=b["manager"])
    # net 1,500.00 to expense, 285.00 VAT reclaimed, 1,785.00 off AR
    assert entry_lines(write_off) == [("1100", D("-1190.0000")), ("1100", D("-595.0000")), ("2200", D("285.0000")),
                                      ("6100", D("1500.0000"))]
    assert write_off.tax_relief == D("285.00")
    assert sorted(line.tax_amount for line in write_off.lines.all()) == [D("95.0000"), D("190.0000")]


def test_an_opening_balance_item_without_invoice_can_be_written_off(b):
    entry = post_invoice(b["entity"], b["customer"], "250.00", number="OB-7", date=dt.date(2025, 12, 31))
    item = OpenItem.objects.get(lines__entry=entry)
    write_off = writeoff_request(open_item_ids=[item.pk], reason="limitation", explanation="Time-barred", by=b["collector"])
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    writeoff_post(write_off_id=write_off.pk, by=b["manager"])
    item.refresh_from_db()
    assert item.open_amount == 0 and reconciled(b["entity"])


def test_the_requester_never_approves_and_each_level_is_another_person(b):
    manager = b["manager"]
    write_off = writeoff_request(invoice_ids=[b["invoices"][0].pk], reason="settlement", explanation="Settled at 0",
                                 by=manager)
    with pytest.raises(SegregationOfDuties):
        writeoff_approve(write_off_id=write_off.pk, by=manager)
    with pytest.raises(SegregationOfDuties):
        writeoff_reject(write_off_id=write_off.pk, by=manager, note="no")
    assert WriteOff.objects.get(pk=write_off.pk).status == "submitted" and not write_off.approvals.exists()


def test_above_the_second_approval_amount_two_people_approve_and_the_last_limit_must_cover_it(b):
    WriteOffPolicy.objects.create(legal_entity=b["entity"], second_approval_above=D("1000.00"))
    write_off = request(b)  # 1,190.00 > 1,000.00: two levels
    assert write_off.required_approvals == 2
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    assert WriteOff.objects.get(pk=write_off.pk).status == "submitted"
    with pytest.raises(SegregationOfDuties, match="already approved"):
        writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    writeoff_approve(write_off_id=write_off.pk, by=b["controller"])
    write_off.refresh_from_db()
    assert write_off.status == "approved"
    assert [(a.level, a.approver_id) for a in write_off.approvals.all()] == [(1, b["manager"].pk), (2, b["controller"].pk)]


def test_an_approver_over_the_limit_is_refused(b, today):
    from tests.factories.collections_writeoffs import write_off_limits

    write_off_limits(manager="1000.00")
    write_off = request(b)
    with pytest.raises(LimitExceeded, match="1,190.00 EUR exceeds"):
        writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    with pytest.raises(PermissionDenied):
        writeoff_approve(write_off_id=write_off.pk, by=user_with_role("Collector"))
    assert WriteOff.objects.get(pk=write_off.pk).status == "submitted"


def test_a_disputed_invoice_is_refused_until_the_dispute_is_resolved(b):
    invoice = b["invoices"][0]
    dispute = DisputeFactory(invoice=invoice, amount=D("100.00"))
    with pytest.raises(DomainError, match="open dispute"):
        request(b)
    assert not WriteOff.objects.exists()
    dispute.status = "rejected"
    dispute.save()
    write_off = request(b)
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    DisputeFactory(invoice=invoice, amount=D("50.00"))  # a new dispute before posting
    with pytest.raises(DomainError, match="open dispute"):
        writeoff_post(write_off_id=write_off.pk, by=b["controller"])
    invoice.refresh_from_db()
    assert invoice.status == "issued" and WriteOff.objects.get(pk=write_off.pk).status == "approved"


def test_posting_in_a_closed_period_is_refused(b):
    write_off = request(b)
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    Period.objects.filter(legal_entity=b["entity"], year=2026, month=6).update(status="closed")
    with pytest.raises(DomainError, match="closed"):
        writeoff_post(write_off_id=write_off.pk, by=b["controller"], posting_date=ON)
    assert WriteOff.objects.get(pk=write_off.pk).status == "approved"
    assert Invoice.objects.get(pk=b["invoices"][0].pk).amount_written_off == 0


def test_an_item_is_in_one_live_write_off_and_a_changed_balance_is_not_posted(b):
    write_off = request(b)
    with pytest.raises(ValidationFailed, match="already in write-off"):
        request(b)
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    from tests.factories.ledger import post_receipt

    post_receipt(OpenItem.objects.get(pk=b["invoices"][0].open_item_id), "100.00", date=ON)
    with pytest.raises(Conflict, match="open now"):
        writeoff_post(write_off_id=write_off.pk, by=b["controller"])


def test_a_rejected_write_off_needs_a_reason_and_frees_the_items(b):
    write_off = request(b)
    with pytest.raises(ValidationFailed):
        writeoff_reject(write_off_id=write_off.pk, by=b["manager"], note=" ")
    writeoff_reject(write_off_id=write_off.pk, by=b["manager"], note="Agency still working it")
    assert WriteOff.objects.get(pk=write_off.pk).status == "rejected"
    assert request(b).status == "submitted"
