"""The aging page, drill-down, exports, bucket settings: who sees what, and a query count that
does not grow with the number of customers."""

import datetime as dt
import io
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from otc.roles import AUDITOR, BILLING_SPECIALIST, CONTROLLER, FINANCE_MANAGER, SALES_REP
from receivables.aging.cache import recent_reports_clear
from receivables.models import AgingPolicy
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import post_invoice
from tests.factories.otc import UserFactory, user_with_role
from tests.factories.queries import queries_for

from .conftest import AS_OF

URL = reverse("receivables:aging")


def _get(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, {"as_of": AS_OF.isoformat(), **params})


def test_the_page_shows_buckets_totals_chart_and_a_zero_difference_to_the_control_account(client, aging_book):
    response = _get(client, user_with_role(FINANCE_MANAGER), entity=aging_book["entity"].id)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="chart-AG1"' in html and "chart.umd.min.js" in html and 'id="aging-charts"' in html
    assert "Acme GmbH" in html and "Beta SA" in html
    assert "2,800.00" in html and "3,050.00" in html  # Acme's total; the EUR total
    tie = response.context["report"].entities[0].control
    assert [(t["aging_total"], t["control_balance"], t["difference"]) for t in tie] == [
        (Decimal("3050.0000"), Decimal("3050.0000"), Decimal("0.0000"))]
    assert 'data-testid="difference">0.00<' in html


def test_sorting_by_a_bucket(client, aging_book):
    response = _get(client, user_with_role(FINANCE_MANAGER), sort="-b5")
    assert [r.label for r in response.context["report"].entities[0].rows] == ["Beta SA", "Acme GmbH"]
    response = _get(client, user_with_role(FINANCE_MANAGER), sort="label")
    assert [r.label for r in response.context["report"].entities[0].rows] == ["Acme GmbH", "Beta SA"]


def test_bad_input_is_a_form_error(client, aging_book):
    user = user_with_role(FINANCE_MANAGER)
    response = _get(client, user, as_of="2025-06-30")
    assert response.status_code == 200 and response.context["report"] is None
    assert "before the first posting" in response.content.decode()
    response = _get(client, user, buckets="..0, 1-30, 20..")
    assert "overlap" in response.content.decode() and response.context["report"] is None
    response = _get(client, user, currency="ZZZ")
    assert "Unknown currency code" in response.content.decode()
    response = _get(client, user, buckets="..0, 1-30, 40..")
    assert "gap" in response.content.decode() and response.context["report"] is None
    response = _get(client, user, entity="999999")
    assert response.context["report"] is None and "entity" in response.context["form"].errors
    assert not AgingPolicy.objects.exists()  # a report's own buckets are never stored


def test_drill_down_to_open_items_as_of_the_date_and_on_to_the_document(client, aging_book):
    url = reverse("receivables:aging_customer", args=[aging_book["acme"].id])
    response = _get(client, user_with_role(FINANCE_MANAGER), url=url)
    assert response.status_code == 200
    numbers = [r["item"].document_number for r in response.context["rows"]]
    assert numbers == ["A3", "A2", "CN1", "A1"]
    a3 = response.context["rows"][0]
    assert (a3["open_at"], a3["days"], a3["bucket"]) == (Decimal("1400.0000"), 91, "91-120")
    assert reverse("ledger:open_item_detail", args=[a3["item"].pk]) in response.content.decode()


def test_a_sales_rep_sees_own_customers_and_gets_404_for_others(client, aging_book):
    rep = user_with_role(SALES_REP)
    aging_book["beta"].sales_owner = rep
    aging_book["beta"].save()
    response = _get(client, rep)
    assert [r.label for r in response.context["report"].entities[0].rows] == ["Beta SA"]
    assert "Acme GmbH" not in response.content.decode()
    assert _get(client, rep, url=reverse("receivables:aging_customer", args=[aging_book["acme"].id])).status_code == 404


def test_who_may_not_see_the_aging(client, aging_book):
    assert _get(client, UserFactory()).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_excel_one_sheet_per_entity_numbers_as_numbers_currency_format_frozen_header(client, aging_book):
    from tests.factories.ledger import LegalEntityFactory

    other = LegalEntityFactory(code="AG2", functional_currency="EUR")
    post_invoice(other, CustomerFactory(legal_name="Gamma BV"), "99.00", date=dt.date(2026, 6, 1), currency="EUR")
    response = _get(client, user_with_role(AUDITOR), format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["AG1", "AG2"]
    sheet = book["AG1"]
    assert sheet.freeze_panes == "B5"
    assert [c.value for c in sheet[4]][:9] == ["Customer", "Account", "Currency", "Current", "1-30", "31-60", "61-90",
                                              "91-120", "Over 120"]
    acme = next(row for row in sheet.iter_rows(min_row=5) if row[0].value == "Acme GmbH")
    assert isinstance(acme[3].value, int | float) and acme[3].value == 1000
    assert acme[7].value == 1400 and acme[11].value == 2800
    assert '"EUR"' in acme[3].number_format and "#,##0.00" in acme[3].number_format
    assert book["AG2"]["A5"].value == "Gamma BV"


def test_pdf_export(client, aging_book):
    response = _get(client, user_with_role(FINANCE_MANAGER), format="pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_query_count_does_not_grow_with_customers(client, aging_book):
    user = user_with_role(FINANCE_MANAGER)
    client.force_login(user)
    entity = aging_book["entity"]

    def count():
        cache.clear()  # the uncached path: the page and API keep a report per state of the books
        recent_reports_clear()
        return queries_for(client, URL, {"as_of": AS_OF.isoformat()})

    count()  # warm-up
    before = count()
    for i in range(15):
        post_invoice(entity, CustomerFactory(), f"{100 + i}.00", date=dt.date(2026, 5, 1 + i), currency="EUR")
    assert count() == before


def test_bucket_settings_are_for_the_controller_and_refuse_gaps(client, aging_book):
    entity = aging_book["entity"]
    url = reverse("receivables:aging_buckets_save", args=[entity.id])
    client.force_login(user_with_role(BILLING_SPECIALIST))
    assert client.post(url, {"buckets": "..0, 1.."}).status_code == 403
    client.force_login(user_with_role(CONTROLLER))
    client.post(url, {"buckets": "..0, 1-30, 40.."})
    assert not AgingPolicy.objects.exists()
    client.post(url, {"buckets": "..0, 1-60, 61.."})
    assert AgingPolicy.objects.get().buckets == "..0, 1-60, 61.."
    assert client.get(reverse("receivables:aging_buckets")).status_code == 200


def test_a_cached_report_is_never_stale(client, aging_book):
    from django.core.cache import cache

    from tests.factories.ledger import post_receipt

    from .conftest import item_of

    cache.clear()
    recent_reports_clear()
    user = user_with_role(FINANCE_MANAGER)
    first = _get(client, user).context["report"].entities[0].totals["EUR"]["total"]
    with CaptureQueriesContext(connection) as cached:
        assert _get(client, user).context["report"].entities[0].totals["EUR"]["total"] == first
    post_receipt(item_of(aging_book["a1"]), "250.00", date=dt.date(2026, 6, 29))
    with CaptureQueriesContext(connection) as fresh:
        assert _get(client, user).context["report"].entities[0].totals["EUR"]["total"] == first - Decimal("250")
    assert len(cached) < len(fresh)
