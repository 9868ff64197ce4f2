"""Two specialists at once (PostgreSQL row locks): one receipt is never applied past its amount,
one invoice never paid past its balance, and the books stay reconciled."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from billing.models import Invoice
from ledger.models import OpenItem
from ledger.selectors import ar_reconciliation
from otc.errors import DomainError
from receivables.models import Receipt, ReceiptApplication
from receivables.services import bank_account_create, receipt_apply, receipt_record
from tests.factories.billing import de_entity
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.receivables import issue_for

D = Decimal
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(jobs) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(jobs))
    results, errors = [], []

    def work(job) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(job())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.fixture
def setup():
    entity = de_entity()
    account = bank_account_create(legal_entity_id=entity.pk, name="Operating", account_number="DE1", currency="EUR",
                                  by=user_with_role("Controller"))
    customer = CustomerFactory(country="DE")
    people = [user_with_role("Cash Application Specialist", username=f"ca{n}") for n in range(2)]
    return entity, account, customer, people


def _receipt(account, customer, amount, by) -> Receipt:
    return receipt_record(by=by, data={"bank_account_id": account.pk, "value_date": dt.date(2026, 4, 20),
                                       "amount": D(amount), "customer_id": customer.pk})


def test_two_specialists_applying_one_receipt_at_once_never_over_apply_it(setup):
    entity, account, customer, (alice, bob) = setup
    first, second = issue_for(entity, customer, ["1000.00"]), issue_for(entity, customer, ["1000.00"])
    receipt = _receipt(account, customer, "1190.00", alice)
    results, errors = _race([
        lambda: receipt_apply(receipt_id=receipt.pk, allocations=[(first.pk, D("1190.00"))], by=alice),
        lambda: receipt_apply(receipt_id=receipt.pk, allocations=[(second.pk, D("1190.00"))], by=bob),
    ])
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], DomainError) and "left to apply" in errors[0].message
    receipt.refresh_from_db()
    assert (receipt.amount_applied, receipt.status) == (D("1190.00"), "applied")
    assert sorted(Invoice.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == [
        "issued", "paid"]
    assert ReceiptApplication.objects.count() == 1
    assert all(row["difference"] == 0 for row in ar_reconciliation())


def test_two_receipts_paying_one_invoice_at_once_never_overpay_it(setup):
    entity, account, customer, (alice, bob) = setup
    invoice = issue_for(entity, customer, ["1000.00"])
    one, two = _receipt(account, customer, "1190.00", alice), _receipt(account, customer, "1190.00", bob)
    results, errors = _race([
        lambda: receipt_apply(receipt_id=one.pk, allocations=[(invoice.pk, D("1190.00"))], by=alice),
        lambda: receipt_apply(receipt_id=two.pk, allocations=[(invoice.pk, D("1190.00"))], by=bob),
    ])
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], DomainError) and "past its balance" in errors[0].message
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status) == (D("1190.00"), "paid")
    assert OpenItem.objects.get(pk=invoice.open_item_id).open_amount == 0
    assert sorted(Receipt.objects.values_list("status", flat=True)) == ["applied", "unapplied"]
    assert all(row["difference"] == 0 for row in ar_reconciliation())
