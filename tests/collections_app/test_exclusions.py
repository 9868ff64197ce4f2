"""The amounts not chased: open disputes and promises still valid on the day."""

import datetime as dt
from decimal import Decimal as D

import pytest

from collections_app.selectors.exclusions import disputed_amounts, promised_amounts
from tests.factories.billing import InvoiceFactory
from tests.factories.collections import DisputeFactory, PromiseItemFactory

pytestmark = pytest.mark.django_db


def test_only_open_disputes_count_and_they_sum_per_invoice():
    invoice, other = InvoiceFactory(), InvoiceFactory()
    DisputeFactory(invoice=invoice, amount=D("40.00"))
    DisputeFactory(invoice=invoice, amount=D("10.50"), status="in_progress")
    DisputeFactory(invoice=invoice, amount=D("99.00"), status="rejected")
    DisputeFactory(invoice=other, amount=D("5.00"), status="withdrawn")
    assert disputed_amounts(invoice_ids=[invoice.pk, other.pk]) == {invoice.pk: D("50.50")}


def test_a_promise_is_valid_until_its_date_plus_grace_and_only_while_open():
    invoice = InvoiceFactory()
    item = PromiseItemFactory(invoice=invoice, amount=D("70.00"),
                              promise__promised_date=dt.date(2026, 3, 10), promise__grace_days=3)
    PromiseItemFactory(invoice=invoice, amount=D("30.00"), promise__status="kept")
    assert promised_amounts(invoice_ids=[invoice.pk], as_of=dt.date(2026, 3, 13)) == {invoice.pk: D("70.00")}
    assert promised_amounts(invoice_ids=[invoice.pk], as_of=dt.date(2026, 3, 14)) == {}
    item.promise.status = "broken"
    item.promise.save()
    assert promised_amounts(invoice_ids=[invoice.pk], as_of=dt.date(2026, 3, 1)) == {}
