"""Promises to pay: taken within what is collectible, kept from cash applications, broken after the
date plus grace (priority up, collector e-mailed), payment plans judged cumulatively, kept-rate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from collections_app.models import PromiseToPay
from collections_app.selectors.exclusions import promised_amounts
from collections_app.services.disputes import dispute_open
from collections_app.services.portfolio import portfolio_reassign
from collections_app.services.promises import (
    kept_rates,
    payment_plan_create,
    promise_cancel,
    promise_take,
    promises_evaluate,
)
from otc.errors import ValidationFailed
from tests.factories.collections_worklist import book, collector, manager, pay

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def setup(today):
    today(dt.date(2026, 4, 10))
    return book()


def test_a_promise_spreads_over_the_invoices_oldest_first_and_counts_as_promised(setup):
    _, customer, first, second = setup
    promise = promise_take(customer_id=customer.pk, by=collector(), promised_date=dt.date(2026, 4, 15),
                           invoice_ids=[second.pk, first.pk], amount=D("1500.00"))
    items = sorted((i.invoice_id, i.amount) for i in promise.items.all())
    assert sum(a for _, a in items) == D("1500.00")
    assert promise.grace_days == 3 and promise.legal_entity_id == first.legal_entity_id
    assert promised_amounts(invoice_ids=[first.pk, second.pk], as_of=dt.date(2026, 4, 18)) == dict(items)


def test_a_promise_cannot_exceed_what_is_collectible(setup):
    _, customer, first, _ = setup
    by = collector()
    dispute_open(invoice_id=first.pk, by=by, reason="price", amount=D("190.00"))
    with pytest.raises(ValidationFailed, match="exceeds the 1,000.00 EUR"):
        promise_take(customer_id=customer.pk, by=by, promised_date=dt.date(2026, 4, 15), invoice_ids=[first.pk],
                     amount=D("1000.01"))
    with pytest.raises(ValidationFailed, match="in the past"):
        promise_take(customer_id=customer.pk, by=by, promised_date=dt.date(2026, 4, 9), invoice_ids=[first.pk])
    assert not PromiseToPay.objects.exists()


def test_kept_when_paid_broken_after_grace_and_the_collector_is_told(setup, django_capture_on_commit_callbacks):
    entity, customer, first, second = setup
    by = collector(username="cole")
    portfolio_reassign(by=manager(), customer_ids=[customer.pk], collector_id=by.pk)
    kept = promise_take(customer_id=customer.pk, by=by, promised_date=dt.date(2026, 4, 15), invoice_ids=[first.pk])
    broken = promise_take(customer_id=customer.pk, by=by, promised_date=dt.date(2026, 4, 15), invoice_ids=[second.pk])
    pay(entity, first, "1190.00")
    pay(entity, second, "100.00")
    # within the grace period, the unpaid one is still open
    assert promises_evaluate(as_of=dt.date(2026, 4, 18)) == {"kept": 1, "broken": 0, "open": 1}
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert promises_evaluate(as_of=dt.date(2026, 4, 19)) == {"kept": 0, "broken": 1, "open": 0}
    kept.refresh_from_db()
    broken.refresh_from_db()
    assert (kept.status, kept.paid_amount) == ("kept", D("1190.00"))
    assert (broken.status, broken.paid_amount) == ("broken", D("100.00"))
    assert [m.to for m in mail.outbox] == [["cole@otc.example"]]
    assert "595.00 EUR promised by 2026-04-15, 100.00 EUR paid" in mail.outbox[0].body
    # decided promises are not decided again
    assert promises_evaluate(as_of=dt.date(2026, 5, 30)) == {"kept": 0, "broken": 0, "open": 0}
    assert kept_rates(by="collector")[by.pk] == {"kept": 1, "broken": 1, "rate": D("50.00")}


def test_a_payment_plan_is_judged_instalment_by_instalment_cumulatively(setup):
    entity, customer, first, second = setup
    by = collector()
    plan = payment_plan_create(customer_id=customer.pk, by=by, invoice_ids=[first.pk, second.pk], instalments=[
        (dt.date(2026, 4, 30), D("600.00")), (dt.date(2026, 5, 31), D("600.00")), (dt.date(2026, 6, 30), D("585.00"))])
    assert [p.instalment for p in plan] == [1, 2, 3] and len({p.plan_reference for p in plan}) == 1
    pay(entity, first, "700.00")
    assert promises_evaluate(as_of=dt.date(2026, 5, 10)) == {"kept": 1, "broken": 0, "open": 2}
    assert promises_evaluate(as_of=dt.date(2026, 6, 4)) == {"kept": 0, "broken": 1, "open": 1}
    statuses = list(PromiseToPay.objects.filter(plan_reference=plan[0].plan_reference).order_by("instalment")
                    .values_list("status", "paid_amount"))
    assert statuses == [("kept", D("600.00")), ("broken", D("100.00")), ("open", D("0"))]


def test_plans_need_two_ordered_instalments_within_the_collectible_amount(setup):
    _, customer, first, _ = setup
    by = collector()
    with pytest.raises(ValidationFailed, match="at least two"):
        payment_plan_create(customer_id=customer.pk, by=by, invoice_ids=[first.pk],
                            instalments=[(dt.date(2026, 4, 30), D("100.00"))])
    with pytest.raises(ValidationFailed, match="more than the 1,190.00 EUR"):
        payment_plan_create(customer_id=customer.pk, by=by, invoice_ids=[first.pk], instalments=[
            (dt.date(2026, 4, 30), D("600.00")), (dt.date(2026, 5, 30), D("600.00"))])
    assert not PromiseToPay.objects.exists()


def test_cancel_needs_a_reason_and_frees_the_amount(setup):
    _, customer, first, _ = setup
    by = collector()
    promise = promise_take(customer_id=customer.pk, by=by, promised_date=dt.date(2026, 4, 15), invoice_ids=[first.pk])
    with pytest.raises(ValidationFailed):
        promise_cancel(promise_id=promise.pk, by=by, note="")
    promise_cancel(promise_id=promise.pk, by=by, note="Customer went into administration")
    assert promised_amounts(invoice_ids=[first.pk], as_of=dt.date(2026, 4, 12)) == {}
