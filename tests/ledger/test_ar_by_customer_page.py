"""AR by customer on the list component (decision 0020): ranked by the open total in the entity's
functional currency, overdue never below zero, and a foot with the totals per currency and the
total converted to the functional currency (issue 16)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from lxml import html
from openpyxl import load_workbook

from ledger.services import LineSpec, OpenItemSpec, journal_post
from otc.roles import CONTROLLER
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import FxRateFactory, LegalEntityFactory, post_invoice
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def _text(element) -> str:
    return " ".join(element.text_content().split())


def test_ar_by_customer_ranks_in_functional_currency_clamps_overdue_and_totals_per_currency(client, today):
    today(dt.date(2026, 4, 15))
    entity = LegalEntityFactory(functional_currency="USD")
    FxRateFactory(date=dt.date(2026, 1, 31), from_currency="JPY", to_currency="USD", rate=Decimal("0.0066667"))
    yen, dollars, credit = (CustomerFactory(legal_name=name) for name in ("Yen KK", "Dollar Inc", "Credit Ltd"))
    post_invoice(entity, yen, "3960077", currency="JPY", date=dt.date(2026, 3, 1))  # due 03-31: overdue
    post_invoice(entity, dollars, "146601.55", currency="USD", date=dt.date(2026, 4, 1))  # not due yet
    post_invoice(entity, credit, "100.00", currency="USD", date=dt.date(2026, 2, 1))  # overdue
    journal_post(legal_entity_id=entity.id, kind="receipt", document_date=dt.date(2026, 3, 3), by=None,
                 currency="USD", lines=[  # 250.00 on account: more credit than the overdue debit
                     LineSpec(Decimal("250.00"), role="cash"),
                     LineSpec(Decimal("-250.00"), role="unapplied_cash", customer_id=credit.id,
                              open_item=OpenItemSpec("receipt", "RCPT-1", dt.date(2026, 3, 3), dt.date(2026, 3, 3))),
                 ])
    client.force_login(user_with_role(CONTROLLER))

    page = html.fromstring(client.get(reverse("ledger:ar_by_customer")).content.decode())

    table = page.xpath("//table[@data-testid='ar-table']")[0]
    rows = [[_text(td) for td in tr.xpath("./td")] for tr in table.xpath("./tbody/tr")]
    assert [(r[0], r[3], r[4]) for r in rows] == [
        ("Dollar Inc", "146,601.55", "0.00"),
        ("Yen KK", "3,960,077", "3,960,077"),  # 26,400.65 USD: below the USD customer
        ("Credit Ltd", "-150.00", "0.00"),  # overdue clamped at zero, not -150.00
    ]
    foot = [[_text(cell) for cell in tr.xpath("./th|./td")] for tr in table.xpath("./tfoot/tr")]
    assert foot[0] == ["Total JPY · 1 document", "3,960,077 JPY", "3,960,077 JPY"]
    assert foot[1] == ["Total USD · 3 documents", "146,451.55 USD", "0.00 USD"]
    assert foot[2][0].startswith("In USD (functional) at the rates of 2026-04-15, from JPY, USD")
    assert foot[2][1:] == ["172,852.20 USD", "26,400.65 USD"]

    # the export holds the same rows in the same order, amounts as numbers
    response = client.get(reverse("ledger:ar_by_customer"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content))["List"]
    exported = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[0], Decimal(str(r[3])), Decimal(str(r[4]))) for r in exported] == [
        ("Dollar Inc", Decimal("146601.55"), 0), ("Yen KK", 3960077, 3960077), ("Credit Ltd", Decimal("-150"), 0)]
    functional = sheet.cell(row=2, column=6)  # shown "146,601.55 USD": a number displayed with its currency
    assert Decimal(str(functional.value)) == Decimal("146601.55") and functional.number_format == '#,##0.00 "USD"'
    assert sheet.cell(row=2, column=4).number_format == "#,##0.00"
