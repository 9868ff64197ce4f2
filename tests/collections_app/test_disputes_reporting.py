"""Disputed amounts in the aging (group_by=dispute) and the ageing of open disputes per owner on
the manager's view (issue 10, disputes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_app.models import Dispute
from collections_app.selectors.manager import dispute_ageing
from otc.roles import FINANCE_MANAGER
from receivables.aging.engine import AgingParams, aging_report
from tests.factories.collections import DisputeFactory
from tests.factories.collections_dunning import customer, eu_entity, invoice
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
DAY = dt.date(2026, 6, 20)


@pytest.fixture
def book(today):
    today(DAY)
    return eu_entity()


def test_the_aging_groups_items_under_an_open_dispute_apart(book, client):
    cust = customer()
    disputed = invoice(book, cust, "1000.00")  # 1,190.00
    invoice(book, cust, "100.00")  # 119.00
    settled = invoice(book, customer("Fremd GmbH"), "200.00")  # 238.00: its dispute was withdrawn
    DisputeFactory(invoice=disputed, amount=D("100.00"))
    DisputeFactory(invoice=settled, amount=D("50.00"), status="withdrawn")
    manager = user_with_role(FINANCE_MANAGER)

    report = aging_report(params=AgingParams(as_of=DAY, group_by="dispute"), user=manager)
    rows = {row.label: row.total for block in report.entities for row in block.rows}
    assert rows == {"Under open dispute": D("1190.00"), "Not disputed": D("357.00")}

    client.force_login(manager)
    page = client.get(reverse("receivables:aging"), {"group_by": "dispute", "as_of": DAY.isoformat()})
    assert page.status_code == 200 and "Under open dispute" in page.content.decode()


def test_open_disputes_are_aged_per_owner_on_the_managers_view(book, client):
    cust = customer()
    owner = user_with_role("Collector", username="olga")
    type(owner).objects.filter(pk=owner.pk).update(first_name="Olga", last_name="Berg")
    now = timezone.make_aware(dt.datetime.combine(DAY, dt.time(12)))
    young = DisputeFactory(invoice=invoice(book, cust, "1000.00"), amount=D("100.00"), owner=owner,
                           due_date=DAY + dt.timedelta(days=5))
    old = DisputeFactory(invoice=invoice(book, cust, "500.00"), amount=D("40.00"), owner=owner,
                         due_date=DAY - dt.timedelta(days=30))
    DisputeFactory(invoice=invoice(book, cust, "300.00"), amount=D("7.00"), status="rejected")  # closed: not aged
    Dispute.objects.filter(pk=young.pk).update(opened_at=now - dt.timedelta(days=3))
    Dispute.objects.filter(pk=old.pk).update(opened_at=now - dt.timedelta(days=75))

    [row] = dispute_ageing(today=DAY)
    assert (row["owner"], row["currency"], row["count"], row["total"], row["late"]) == (
        "Olga Berg", "EUR", 2, D("140.00"), 1)
    assert row["bands"] == [("0-30", 1, D("100.00")), ("31-60", 0, D("0")), ("61-90", 1, D("40.00")),
                            ("over 90", 0, D("0"))]

    client.force_login(user_with_role(FINANCE_MANAGER))
    html = client.get(reverse("collections_app:manager")).content.decode()
    assert 'data-testid="dispute-ageing"' in html and "Olga Berg" in html
