"""Issue 10 gaps: placed items in the aging grouped by placement, a settlement for less than the
balance leading to the write-off flow, and credit holds per legal entity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from collections_app.services.agency import placement_create
from otc.roles import FINANCE_MANAGER
from receivables.aging.engine import AgingParams, aging_report
from tests.factories.collections_dunning import agency_for, customer, eu_entity, invoice
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
DAY = dt.date(2026, 6, 20)


@pytest.fixture
def book(today):
    today(DAY)
    return eu_entity()


def test_the_aging_groups_placed_items_by_agency_and_the_rest_as_not_placed(book, client, api_client):
    cust, other = customer(), customer("Fremd GmbH")
    placed = invoice(book, cust, "1000.00")  # 1,190.00
    invoice(book, cust, "100.00")  # 119.00: the customer's other invoice stays "(not placed)"
    invoice(book, other, "200.00")  # 238.00
    agency = agency_for(book)
    placement_create(agency_id=agency.pk, customer_id=cust.pk, invoice_ids=[placed.pk], by=None)
    manager = user_with_role(FINANCE_MANAGER)

    report = aging_report(params=AgingParams(as_of=DAY, group_by="placement"), user=manager)
    rows = {row.label: row.total for block in report.entities for row in block.rows}
    assert rows == {agency.name: D("1190.00"), "(not placed)": D("357.00")}

    cache.clear()
    client.force_login(manager)
    page = client.get(reverse("receivables:aging"), {"group_by": "placement", "as_of": DAY.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert agency.name in html and "(not placed)" in html and 'value="placement"' in html
    api_client.force_authenticate(manager)
    body = api_client.get("/api/v1/reports/aging/", {"as_of": DAY.isoformat(), "group_by": "placement"}).json()
    labels = {r["label"]: r["total"] for e in body["entities"] for r in e["rows"]}
    assert D(labels[agency.name]) == D("1190.00") and D(labels["(not placed)"]) == D("357.00")
