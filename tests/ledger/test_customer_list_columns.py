"""The customer list's Balance and Overdue columns (the ledger registers them; customers does not
import the ledger): in the customer's currency, sortable, overdue clamped, other currencies
flagged, never added to the balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from lxml import html

from tests.factories.billing import de_entity, issued
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import FxRateFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
TWO = [{"description": "Platform", "quantity": D("2"), "unit_price": D("1000.00"), "tax_category": "digital",
        "unit": "MON"}]  # 2,380.00 gross


def _rows(client, **params) -> list[dict[str, str]]:
    page = html.fromstring(client.get(reverse("customers:list"), params).content.decode())
    # the header text without the sort arrow (the list marks its sorted column, the default too)
    heads = [" ".join(th.text_content().replace("▲", "").replace("▼", "").split())
             for th in page.xpath("//table[@id='customers-table']/thead//th")]
    return [dict(zip(heads, (" ".join(td.text_content().split()) for td in tr.xpath("./td")), strict=False))
            for tr in page.xpath("//table[@id='customers-table']/tbody/tr")]


def test_customer_list_shows_balance_and_overdue_and_sorts_by_them(client, today):
    entity = de_entity()
    small = CustomerFactory(legal_name="Alpha GmbH", default_currency="EUR", country="DE")
    big = CustomerFactory(legal_name="Beta GmbH", default_currency="EUR", country="DE")
    CustomerFactory(legal_name="Gamma GmbH", default_currency="EUR", country="DE")
    FxRateFactory(date=dt.date(2026, 3, 31), from_currency="USD", to_currency="EUR", rate=D("0.9"))
    issued(entity, customer=small)  # 1,190.00 EUR, issued 2026-03-31
    issued(entity, customer=small, currency="USD")  # another currency: flagged, not added
    issued(entity, customer=big, lines=TWO)
    today(dt.date(2026, 3, 31))  # nothing is due yet
    client.force_login(user_with_role("Collector"))
    rows = {row["Name"]: row for row in _rows(client)}
    assert rows["Alpha GmbH"]["Balance"].replace(" ", "") == "1,190.00EUR+othercurrencies"  # the USD not added
    assert rows["Beta GmbH"]["Balance"] == "2,380.00 EUR"
    assert rows["Gamma GmbH"]["Balance"] == "—" and rows["Beta GmbH"]["Overdue"] == "—"

    today(dt.date(2026, 12, 31))  # everything is past due
    rows = {row["Name"]: row for row in _rows(client)}
    assert rows["Alpha GmbH"]["Overdue"] == "1,190.00 EUR" and rows["Beta GmbH"]["Overdue"] == "2,380.00 EUR"
    names = [row["Name"] for row in _rows(client, sort="-balance")]
    assert names.index("Beta GmbH") < names.index("Alpha GmbH") < names.index("Gamma GmbH")
    names = [row["Name"] for row in _rows(client, sort="overdue")]
    assert names.index("Gamma GmbH") < names.index("Alpha GmbH") < names.index("Beta GmbH")
