"""The ticket queue on the list component (decision 0020): a ticket's amount (a dispute, a credit
request) in its own sortable column, totals per currency, and the export of the filtered rows."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from lxml import html
from openpyxl import load_workbook

from helpdesk.services import ticket_file

pytestmark = pytest.mark.django_db


def _text(element) -> str:
    return " ".join(element.text_content().split())


def test_the_queue_shows_amounts_sorts_by_them_and_totals_per_currency(client, world):
    for subject, amount in (("Short-paid", "300.00"), ("Credit, please", "150.50"), ("Paid?", None)):
        ticket_file(by=world.rep, category="payment_status", subject=subject, description="See the invoice.",
                    invoice_id=world.invoice.pk, amount=amount)
    client.force_login(world.agent)

    page = html.fromstring(client.get(reverse("helpdesk:index"), {"status": "all", "sort": "-amount"}).content.decode())

    table = page.xpath("//table[@data-testid='ticket-table']")[0]
    heads = [_text(th) for th in table.xpath("./thead//th")]
    amounts = [_text(tr.xpath("./td")[heads.index("Amount ▼")]) for tr in table.xpath("./tbody/tr")]
    assert amounts == ["300.00 EUR", "150.50 EUR", ""]
    foot = [[_text(c) for c in tr.xpath("./th|./td")] for tr in table.xpath("./tfoot/tr")]
    assert foot == [["Total EUR · 2 documents", "450.50 EUR"]]

    response = client.get(reverse("helpdesk:index"), {"status": "all", "sort": "-amount", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content))["List"]
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == ["Short-paid", "Credit, please", "Paid?"]
    assert Decimal(str(rows[0][header.index("Amount")])) == Decimal("300.00")
