"""Formula injection (issue 15): the aging workbook and the monthly report pack, the two exports
that wrote cells around otc.exports, keep a customer named like a formula as text."""

import datetime as dt
import io

from django.core.cache import cache
from django.urls import reverse
from openpyxl import load_workbook

from customers.models import Customer
from otc.roles import AUDITOR, CONTROLLER
from receivables.aging.reports import ar_report_generate
from receivables.aging.services import aging_snapshot_take
from tests.factories.otc import user_with_role

from .conftest import AS_OF

EVIL = '=HYPERLINK("http://evil.example","x")'


def _cells(book):
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_the_aging_workbook_keeps_a_formula_name_as_text(client, aging_book):
    Customer.objects.filter(pk=aging_book["acme"].pk).update(legal_name=EVIL)
    cache.clear()
    client.force_login(user_with_role(AUDITOR))
    response = client.get(reverse("receivables:aging"), {"as_of": AS_OF.isoformat(), "format": "xlsx"})
    assert response.status_code == 200
    cells = _cells(load_workbook(io.BytesIO(response.content)))
    assert "'" + EVIL in [c.value for c in cells]
    assert not [c.coordinate for c in cells if c.data_type == "f"]


def test_the_report_pack_keeps_a_formula_name_as_text(aging_book, today):
    Customer.objects.filter(pk=aging_book["acme"].pk).update(legal_name=EVIL)
    today(dt.date(2026, 7, 3))
    aging_snapshot_take(as_of=dt.date(2026, 6, 30))
    pack = ar_report_generate(month=dt.date(2026, 6, 1), by=user_with_role(CONTROLLER), email=False)
    cells = _cells(load_workbook(io.BytesIO(bytes(pack.xlsx))))
    values = [c.value for c in cells]
    assert "'" + EVIL in values and EVIL not in values
    assert not [c.coordinate for c in cells if c.data_type == "f"]
