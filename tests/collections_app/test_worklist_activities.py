"""Activities: a call with its outcome, next action and a promise logged in one step, all or nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from collections_app.models import Activity, Dispute, PromiseToPay
from collections_app.services.activities import activity_log
from otc.errors import PermissionDenied, ValidationFailed
from tests.factories.collections_worklist import book, collector
from tests.factories.customers import ContactFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def setup(today):
    today(dt.date(2026, 4, 10))
    return book()


def test_a_call_with_a_promise_in_one_step(setup):
    _, customer, first, second = setup
    contact = ContactFactory(customer=customer)
    activity = activity_log(customer_id=customer.pk, by=collector(), kind="call", outcome="promised",
                            contact_id=contact.pk, note="AP will pay first invoice Friday",
                            promise={"promised_date": dt.date(2026, 4, 17), "invoice_ids": [first.pk]})
    promise = activity.promise
    assert (promise.amount, promise.promised_date, promise.channel) == (D("1190.00"), dt.date(2026, 4, 17), "call")
    # the next action defaults to checking the payment after the grace period
    assert activity.next_action_date == dt.date(2026, 4, 21)
    assert activity.next_action.startswith("Check the promised payment")


def test_a_call_with_a_dispute_and_an_explicit_next_action(setup):
    _, customer, first, _ = setup
    activity = activity_log(customer_id=customer.pk, by=collector(), kind="email", outcome="disputed",
                            next_action="Chase the account manager", next_action_date=dt.date(2026, 4, 14),
                            dispute={"invoice_id": first.pk, "reason": "quantity", "amount": D("119.00")})
    assert (activity.dispute.amount, activity.dispute.reason) == (D("119.00"), "quantity")
    assert (activity.next_action, activity.next_action_date) == ("Chase the account manager", dt.date(2026, 4, 14))


def test_a_bad_promise_writes_nothing_at_all(setup):
    _, customer, first, _ = setup
    with pytest.raises(ValidationFailed, match="exceeds"):
        activity_log(customer_id=customer.pk, by=collector(), kind="call", outcome="promised",
                     promise={"promised_date": dt.date(2026, 4, 17), "invoice_ids": [first.pk],
                              "amount": D("5000.00")})
    with pytest.raises(ValidationFailed, match="Record the promise"):
        activity_log(customer_id=customer.pk, by=collector(), kind="call", outcome="promised")
    with pytest.raises(ValidationFailed, match="in the past"):
        activity_log(customer_id=customer.pk, by=collector(), kind="call", outcome="no_answer",
                     next_action_date=dt.date(2026, 4, 1))
    with pytest.raises(PermissionDenied):
        activity_log(customer_id=customer.pk, by=user_with_role("Sales Rep"), kind="note", outcome="info")
    assert (Activity.objects.count(), PromiseToPay.objects.count(), Dispute.objects.count()) == (0, 0, 0)
