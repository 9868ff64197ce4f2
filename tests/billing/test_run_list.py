"""The billing runs list on the list component (decision 0020): what each run invoiced per
currency (void invoices left out), the totals per currency with the converted total, the export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from lxml import html
from openpyxl import load_workbook

from billing.models import BillingRun, Invoice
from tests.factories.billing import de_entity, draft
from tests.factories.ledger import FxRateFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def _text(element) -> str:
    return " ".join(element.text_content().split())


def test_each_run_shows_what_it_invoiced_per_currency_and_the_list_totals_them(client):
    entity = de_entity()
    FxRateFactory(date=dt.date(2026, 1, 1), from_currency="USD", to_currency="EUR", rate=Decimal("0.9"))
    march, april = (BillingRun.objects.create(period_start=dt.date(2026, m, 1), status=BillingRun.Status.GENERATED)
                    for m in (3, 4))
    eur = [draft(entity), draft(entity)]  # 1,190.00 EUR each
    usd = draft(entity, currency="USD")  # 1,190.00 USD
    void = draft(entity)
    Invoice.objects.filter(pk__in=[eur[0].pk, usd.pk]).update(billing_run=march)
    Invoice.objects.filter(pk__in=[eur[1].pk, void.pk]).update(billing_run=april)
    Invoice.objects.filter(pk=void.pk).update(status=Invoice.Status.VOID, number="DE01-INV-2026-009999")
    client.force_login(user_with_role("Billing Specialist"))

    page = html.fromstring(client.get(reverse("billing:runs"), {"sort": "period"}).content.decode())

    table = page.xpath("//table[.//a[@data-param='sort']]")[0]
    heads = [_text(th) for th in table.xpath("./thead//th")]
    invoiced = [[_text(div) for div in tr.xpath("./td")[heads.index("Invoiced")].xpath("./div")]
                for tr in table.xpath("./tbody/tr")]
    assert invoiced == [["1,190.00 EUR", "1,190.00 USD"], ["1,190.00 EUR"]]  # the void one is not counted
    foot = [[_text(c) for c in tr.xpath("./th|./td")] for tr in table.xpath("./tfoot/tr")]
    assert foot[0] == ["Total EUR · 2 documents", "2,380.00 EUR"]
    assert foot[1] == ["Total USD · 1 document", "1,190.00 USD"]
    assert foot[2][0].startswith("In EUR (functional)") and foot[2][1] == "3,451.00 EUR"

    response = client.get(reverse("billing:runs"), {"sort": "-period", "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content))["List"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [f"#{april.pk}", f"#{march.pk}"]
