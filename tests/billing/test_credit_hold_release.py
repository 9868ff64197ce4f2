"""Releasing a held draft needs a reason; while the customer is on credit hold it extends credit,
so it needs a credit-release approval limit covering the invoice (issue 16)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.services import invoice_hold, invoice_release
from otc.errors import LimitExceeded
from otc.models import ApprovalLimit, StatusChange
from tests.factories.billing import de_entity, draft, specialist
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def held_draft_of_customer_on_hold():
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH", status="on_hold",
                               status_reason="Two invoices 90 days overdue")
    invoice = draft(de_entity(), customer=customer)  # 1,000.00 net + 19% = 1,190.00 EUR
    invoice_hold(invoice_id=invoice.pk, by=specialist(), reason="Customer on hold")
    return invoice


def test_specialist_may_not_release_a_customer_on_credit_hold_and_nothing_is_written():
    invoice = held_draft_of_customer_on_hold()
    changes = StatusChange.objects.count()
    with pytest.raises(LimitExceeded, match="Kunde Eins GmbH is on hold .Two invoices 90 days overdue.: releasing "
                                            "this 1,190.00 EUR invoice extends credit"):
        invoice_release(invoice_id=invoice.pk, by=specialist(), reason="Customer promised to pay")
    invoice.refresh_from_db()
    assert invoice.on_hold is True
    assert StatusChange.objects.count() == changes


def test_a_limit_below_the_invoice_is_refused_and_one_covering_it_releases():
    invoice = held_draft_of_customer_on_hold()
    manager = user_with_role("Finance Manager")
    limit = ApprovalLimit.objects.create(kind="credit_release", role=Group.objects.get(name="Finance Manager"),
                                         currency="EUR", max_amount=D("1000"))
    with pytest.raises(LimitExceeded, match="your credit-release limit is 1,000.00 EUR"):
        invoice_release(invoice_id=invoice.pk, by=manager, reason="Paid in full yesterday")
    limit.max_amount = D("5000")
    limit.save()
    invoice_release(invoice_id=invoice.pk, by=manager, reason="Paid in full yesterday")
    invoice.refresh_from_db()
    assert invoice.on_hold is False
    change = StatusChange.objects.filter(object_id=invoice.pk, field="hold_state").order_by("-id").first()
    assert (change.to_state, change.note, change.by) == ("released", "Paid in full yesterday", manager)


def test_the_page_warns_and_the_refusal_is_shown(client):
    invoice = held_draft_of_customer_on_hold()
    client.force_login(specialist())
    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert 'data-testid="credit-hold-warning"' in page and "needs a credit-release approval limit" in page
    response = client.post(reverse("billing:invoice_release", args=[invoice.pk]), {"reason": "Trust them"}, follow=True)
    assert "extends credit" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.on_hold is True
