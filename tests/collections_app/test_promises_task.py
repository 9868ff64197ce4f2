"""The daily beat task: promises decided and disputes closed by their issued credit note; the
customer's timeline shows the promise, the payment and the decision."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from collections_app.models import PromiseToPay
from collections_app.selectors.timeline import customer_timeline
from collections_app.services.promises import promise_take
from collections_app.tasks_promises import promises_daily_task
from tests.factories.collections_worklist import book, collector, pay

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_daily_task_decides_promises_and_the_timeline_tells_the_story(today):
    today(dt.date(2026, 4, 10))
    entity, customer, first, second = book()
    promise_take(customer_id=customer.pk, by=collector(), promised_date=dt.date(2026, 4, 15), invoice_ids=[first.pk])
    pay(entity, first, "1190.00")
    assert promises_daily_task(as_of="2026-04-16") == {"kept": 1, "broken": 0, "open": 0, "disputes_closed": 0}
    assert PromiseToPay.objects.get().status == "kept"
    titles = [e["title"] for e in customer_timeline(customer_id=customer.pk)]
    assert "Promise of 1,190.00 EUR kept" in titles
    assert f"Payment 1,190.00 EUR applied to {first.number}" in titles
    assert "Promise to pay 1,190.00 EUR by 2026-04-15" in titles


def test_a_promise_is_kept_as_soon_as_the_cash_is_applied(today, django_capture_on_commit_callbacks):
    today(dt.date(2026, 4, 10))
    entity, customer, first, _ = book()
    promise = promise_take(customer_id=customer.pk, by=collector(), promised_date=dt.date(2026, 4, 15),
                           invoice_ids=[first.pk])
    with django_capture_on_commit_callbacks(execute=True):
        pay(entity, first, "1190.00")
    promise.refresh_from_db()
    assert (promise.status, promise.paid_amount) == ("kept", D("1190.00"))


def test_the_schedule_command_registers_the_daily_task_once():
    call_command("collections_worklist_schedule")
    call_command("collections_worklist_schedule", hour=5)
    [task] = PeriodicTask.objects.filter(task="collections.promises_daily")
    assert task.enabled and task.crontab.hour == "5"
