"""The one list component (otc.listing.sorted_page, decision 0020) on a small list: the footer,
the Excel export of every filtered row in the asked order (money as numbers with their currency,
formula-safe text), the row cap, and totals per currency with a converted total."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from lxml import html
from openpyxl import load_workbook

from billing.models import Invoice
from otc.listing import list_table
from tests.factories.billing import InvoiceFactory
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import FxRateFactory, LegalEntityFactory
from tests.factories.otc import admin_user

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def invoices():
    """Seven issued invoices: five in EUR and two in USD of one EUR entity, one customer named like
    a formula."""
    entity = LegalEntityFactory(code="IE01")
    sly = CustomerFactory(legal_name='=HYPERLINK("http://evil.example","x")')
    plain = CustomerFactory(legal_name="Plain Customer Ltd")
    rows = []
    for n in range(7):
        currency = "USD" if n >= 5 else "EUR"
        rows.append(InvoiceFactory(
            legal_entity=entity, customer=sly if n == 0 else plain, currency=currency, number=f"IE01-INV-{n:04d}",
            status=Invoice.Status.ISSUED, issue_date=dt.date(2026, 3, 1) + dt.timedelta(days=n),
            due_date=dt.date(2026, 4, 1), gross_total=Decimal(1000 + n * 100), net_total=Decimal(1000 + n * 100)))
    FxRateFactory(date=dt.date(2026, 1, 1), from_currency="USD", to_currency="EUR", rate=Decimal("0.9"))
    return rows


def _login(client):
    client.force_login(admin_user())


def test_the_footer_shows_the_pager_the_count_and_the_export_link(client, invoices):
    _login(client)
    response = client.get(reverse("billing:invoices"), {"status": "issued", "sort": "total"})
    tree = html.fromstring(response.content.decode())
    footer = tree.xpath("//*[@data-testid='list-footer']")[0]
    assert footer.get("data-list") == "billing:invoices"
    assert "Page 1 of 1 · 7 rows" in " ".join(footer.text_content().split())
    href = footer.xpath(".//a[@data-testid='list-export']/@href")[0]
    # the filters and the sort are kept, the page is not
    assert href.startswith("?") and "status=issued" in href and "sort=total" in href and "export=xlsx" in href


def test_the_export_holds_every_filtered_row_in_the_asked_order(client, invoices, settings):
    _login(client)
    response = client.get(reverse("billing:invoices"), {"sort": "-total", "export": "xlsx", "page": "1"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="billing-invoices-')
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["List"]
    header = [c.value for c in sheet[1]]
    assert header == ["Number", "Entity", "Customer", "Period", "Issued", "Due", "Status", "Total", "Balance"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [f"IE01-INV-{n:04d}" for n in (6, 5, 4, 3, 2, 1, 0)]
    # money is a number shown with its currency; dates are dates; a formula-like name stays text
    total = sheet.cell(row=2, column=8)
    assert total.value == Decimal("1600.00") and total.number_format == '#,##0.00 "USD"'
    assert sheet.cell(row=2, column=5).value == dt.datetime(2026, 3, 7)
    assert rows[-1][2] == '\'=HYPERLINK("http://evil.example","x")'
    # the totals per currency and the converted total go to a second sheet
    totals = [[c for c in r if c not in (None, "")] for r in book["Totals"].iter_rows(values_only=True)]
    assert totals[0][0] == "Total EUR · 5 documents" and totals[0][1] == Decimal("6000.00")
    assert totals[1][0] == "Total USD · 2 documents" and totals[1][1] == Decimal("3100.00")
    assert totals[2][0].startswith("In EUR (functional)") and totals[2][1] == Decimal("8790.00")


def test_the_export_of_a_filtered_list_holds_only_its_rows(client, invoices):
    _login(client)
    response = client.get(reverse("billing:invoices"), {"q": "evil", "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content))["List"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["IE01-INV-0000"]


def test_an_export_over_the_cap_is_refused_with_the_limit(client, invoices, settings):
    settings.OTC_LIST_EXPORT_MAX_ROWS = 6
    _login(client)
    response = client.get(reverse("billing:invoices"), {"sort": "total", "export": "xlsx"}, follow=True)
    assert response.redirect_chain == [(reverse("billing:invoices") + "?sort=total", 302)]
    assert "7 rows match: an export holds at most 6. Narrow the filters" in response.content.decode()
    settings.OTC_LIST_EXPORT_MAX_ROWS = 7
    assert client.get(reverse("billing:invoices"), {"export": "xlsx"})["Content-Type"] == XLSX


def test_an_empty_list_offers_no_export_and_still_shows_its_pager(client):
    _login(client)
    tree = html.fromstring(client.get(reverse("billing:invoices")).content.decode())
    footer = tree.xpath("//*[@data-testid='list-footer']")[0]
    assert "Page 1 of 1 · 0 rows" in " ".join(footer.text_content().split())
    assert not footer.xpath(".//a[@data-testid='list-export']")


def test_the_list_table_leaves_out_action_columns_and_the_empty_row():
    page = """<table><thead><tr><th><a data-sort="a" data-param="sort" href="?sort=a">A ▲</a></th><th data-export="no"></th>
    <th>B</th></tr></thead><tbody><tr><td>1</td><td><button>Go</button></td><td>x</td></tr>
    <tr><td colspan="3" class="panel-empty">Nothing.</td></tr></tbody></table>"""
    assert list_table(page) == (["A", "B"], [["1", "x"]], [])
