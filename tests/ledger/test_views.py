"""Ledger pages: who is refused, what they show, period close/reopen, FX entry, GL export,
query counts that do not grow with rows."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.models import FxRate, Period
from ledger.services import journal_reverse
from otc.roles import (
    AUDITOR,
    BILLING_SPECIALIST,
    CASH_APPLICATION,
    COLLECTOR,
    CONTROLLER,
    FINANCE_MANAGER,
    SALES_REP,
)
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import (
    LegalEntityFactory,
    books_fixture,  # noqa: F401 - a fixture
    post_invoice,
)
from tests.factories.otc import user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db


def _client(client, role):
    client.force_login(user_with_role(role))
    return client


def _urls(b):
    e = b["entity"].pk
    return {
        "index": reverse("ledger:index"), "entity_list": reverse("ledger:entity_list"),
        "entity_detail": reverse("ledger:entity_detail", args=[e]), "accounts": reverse("ledger:accounts", args=[e]),
        "periods": reverse("ledger:periods", args=[e]), "fx_rates": reverse("ledger:fx_rates"),
        "journal_list": reverse("ledger:journal_list"), "journal_detail": reverse("ledger:journal_detail", args=[b["invoice"].pk]),
        "trial_balance": reverse("ledger:trial_balance"), "ar_reconciliation": reverse("ledger:ar_reconciliation"),
        "ar_by_customer": reverse("ledger:ar_by_customer"), "gl_export": reverse("ledger:gl_export"),
        "open_item": reverse("ledger:open_item_detail", args=[b["item"].pk]),
    }


ALL = ["index", "entity_list", "entity_detail", "accounts", "periods", "fx_rates", "journal_list", "journal_detail",
       "trial_balance", "ar_reconciliation", "ar_by_customer", "gl_export", "open_item"]
ALLOWED = {
    CONTROLLER: ALL,
    AUDITOR: ALL,
    FINANCE_MANAGER: [u for u in ALL if u != "gl_export"],
    CASH_APPLICATION: [u for u in ALL if u != "gl_export"],
    BILLING_SPECIALIST: ["index", "entity_list", "entity_detail", "journal_list", "journal_detail", "ar_by_customer", "open_item"],
    COLLECTOR: ["index", "entity_list", "entity_detail", "ar_by_customer", "open_item"],
    SALES_REP: ["ar_by_customer"],
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_sees_exactly_its_pages(client, books, role):
    """The open-item page is scoped by customer too: a sales rep gets 404 (tested below)."""
    _client(client, role)
    statuses = {name: client.get(url).status_code for name, url in _urls(books).items() if name != "open_item"}
    assert statuses == {name: 200 if name in ALLOWED[role] else 403 for name in ALL if name != "open_item"}


def test_sales_rep_gets_404_for_another_reps_open_item_and_sees_own(client, books):
    rep = user_with_role(SALES_REP)
    client.force_login(rep)
    assert client.get(reverse("ledger:open_item_detail", args=[books["item"].pk])).status_code == 404
    assert "Panel GmbH" not in client.get(reverse("ledger:ar_by_customer")).content.decode()
    books["customer"].sales_owner = rep
    books["customer"].save()
    assert client.get(reverse("ledger:open_item_detail", args=[books["item"].pk])).status_code == 200
    assert "Panel GmbH" in client.get(reverse("ledger:ar_by_customer")).content.decode()


def test_anonymous_is_sent_to_login(client, books):
    response = client.get(reverse("ledger:journal_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_controller_closes_and_reopens_a_period_with_a_reason(client, books):
    _client(client, CONTROLLER)
    period = books["period"]
    response = client.post(reverse("ledger:period_close", args=[period.pk]), follow=True)
    assert "closed." in response.content.decode()
    period.refresh_from_db()
    assert period.status == "closed"
    client.post(reverse("ledger:period_reopen", args=[period.pk]), {"note": ""})
    period.refresh_from_db()
    assert period.status == "closed"
    client.post(reverse("ledger:period_reopen", args=[period.pk]), {"note": "Late credit note"})
    period.refresh_from_db()
    assert period.status == "open"
    page = client.get(reverse("ledger:periods", args=[books["entity"].pk])).content.decode()
    assert "Late credit note" in page


@pytest.mark.parametrize("role", [AUDITOR, FINANCE_MANAGER, CASH_APPLICATION])
def test_readers_cannot_close_periods(client, books, role):
    _client(client, role)
    page = client.get(reverse("ledger:periods", args=[books["entity"].pk])).content.decode()
    assert "period_close" not in page and ">Close<" not in page
    assert client.post(reverse("ledger:period_close", args=[books["period"].pk])).status_code == 403
    books["period"].refresh_from_db()
    assert books["period"].status == "open"


def test_fx_rate_add(client, books):
    _client(client, FINANCE_MANAGER)
    data = {"date": "2026-04-01", "from_currency": "usd", "to_currency": "EUR", "rate": "0.9215"}
    assert client.post(reverse("ledger:fx_rates"), data).status_code == 403
    _client(client, CONTROLLER)
    bad = client.post(reverse("ledger:fx_rates"), {**data, "rate": "0,9"})
    assert bad.status_code == 200 and not FxRate.objects.exists()
    assert client.post(reverse("ledger:fx_rates"), data).status_code == 302
    rate = FxRate.objects.get()
    assert (rate.from_currency, rate.to_currency, rate.rate) == ("USD", "EUR", Decimal("0.9215"))


def test_journal_detail_shows_lines_open_item_and_reversal(client, books):
    reversal = journal_reverse(entry_id=books["receipt"].pk, by=None)
    _client(client, CONTROLLER)
    page = client.get(reverse("ledger:journal_detail", args=[books["receipt"].pk])).content.decode()
    assert "1,190.00" not in page and "190.00" in page
    assert reverse("ledger:open_item_detail", args=[books["item"].pk]) in page
    assert reverse("ledger:journal_detail", args=[reversal.pk]) in page
    assert "Panel GmbH" in page
    item_page = client.get(reverse("ledger:open_item_detail", args=[books["item"].pk])).content.decode()
    assert "1,190.00 EUR" in item_page


def test_trial_balance_and_reconciliation_pages(client, books):
    _client(client, AUDITOR)
    page = client.get(reverse("ledger:trial_balance"), {"entity": books["entity"].pk, "date_to": "2026-04-30"}).content.decode()
    assert "1,190.00" in page and 'data-testid="tb-total">0.00 EUR' in page
    recon = client.get(reverse("ledger:ar_reconciliation")).content.decode()
    assert "AR control equals the sum of open items everywhere" in recon and "1,000.00" in recon


def test_gl_export_csv(client, books):
    _client(client, AUDITOR)
    response = client.get(reverse("ledger:gl_export"), {"entity": books["entity"].pk, "period": books["period"].pk})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="gl-{books["entity"].code}-2026-03.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["entity", "entry_number", "entry_date", "document_date"]
    assert [(r[1], r[7], r[12], r[13]) for r in rows[1:]] == [
        (books["invoice"].number, "1100", "1190.0000", ""), (books["invoice"].number, "4000", "", "1190.0000"),
        (books["receipt"].number, "1000", "190.0000", ""), (books["receipt"].number, "1100", "", "190.0000"),
    ]
    _client(client, FINANCE_MANAGER)
    assert client.get(reverse("ledger:gl_export"), {"entity": books["entity"].pk, "period": books["period"].pk}).status_code == 403


def test_customer_page_panel_and_dashboard_panels(client, books):
    _client(client, CONTROLLER)
    page = client.get(reverse("customers:detail", args=[books["customer"].pk])).content.decode()
    assert "Balance and open items" in page
    assert "1,000.00 EUR" in page and "INV-77" in page
    assert ">15<" in page  # days overdue: due 2026-03-31, today 2026-04-15
    home = client.get(reverse("home")).content.decode()
    assert "AR control reconciliation" in home and "Periods open" in home and "in balance" in home


def test_nav_shows_ledger_for_journal_readers_only(client, books):
    _client(client, CONTROLLER)
    assert reverse("ledger:index") in client.get(reverse("home")).content.decode()
    _client(client, SALES_REP)
    assert reverse("ledger:index") not in client.get(reverse("home")).content.decode()


def test_journal_list_query_count_does_not_grow(client, books):
    _client(client, CONTROLLER)
    url = reverse("ledger:journal_list")
    before = queries_for(client, url, warm=True)
    for n in range(8):
        post_invoice(books["entity"], CustomerFactory(), f"{n + 1}.00")
    assert queries_for(client, url, warm=True) == before


def test_entities_and_periods_pages_query_count_does_not_grow(client, books):
    _client(client, CONTROLLER)
    urls = [reverse("ledger:periods", args=[books["entity"].pk]), reverse("ledger:entity_list"), reverse("ledger:ar_by_customer")]
    before = [queries_for(client, url, warm=True) for url in urls]
    for month in range(4, 10):
        Period.objects.get_or_create(legal_entity=books["entity"], year=2026, month=month)  # more periods, same queries
        post_invoice(LegalEntityFactory(), CustomerFactory(), "5.00")
    assert [queries_for(client, url, warm=True) for url in urls] == before
