"""Reports: trial balance, AR by customer, AR reconciliation, customer balance, GL export."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger.models import OpenItem, Period
from ledger.selectors import (
    GL_EXPORT_HEADER,
    ar_by_customer,
    ar_reconciliation,
    customer_balance,
    customer_open_items,
    gl_export_rows,
    journal_entries,
    trial_balance,
)
from ledger.services import LineSpec, OpenItemSpec, journal_post, journal_reverse
from otc.roles import CONTROLLER, SALES_REP
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory, post_invoice, post_receipt
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(today):
    today(dt.date(2026, 4, 15))
    entity = LegalEntityFactory()
    rep = user_with_role(SALES_REP)
    mine, theirs = CustomerFactory(sales_owner=rep, legal_name="Mine AG"), CustomerFactory(legal_name="Theirs AG")
    post_invoice(entity, mine, "1000.00", number="INV-1", date=dt.date(2026, 3, 1))  # due 2026-03-31: overdue
    post_invoice(entity, mine, "250.50", number="INV-2", date=dt.date(2026, 4, 1))   # due 2026-05-01
    post_invoice(entity, theirs, "80.00", number="INV-3", date=dt.date(2026, 3, 5))
    post_receipt(OpenItem.objects.get(document_number="INV-1"), "400.00", date=dt.date(2026, 4, 2))
    usd = journal_post(legal_entity_id=entity.id, kind="receipt", document_date=dt.date(2026, 4, 3), by=None, lines=[
        LineSpec(Decimal("110.00"), role="cash", currency="USD", fx_rate=Decimal("0.9")),
        LineSpec(Decimal("-99.00"), role="suspense", currency="EUR"),
    ])
    return {"entity": entity, "rep": rep, "mine": mine, "theirs": theirs, "usd": usd}


def test_trial_balance_per_account_and_currency_sums_to_zero(books):
    report = trial_balance(legal_entity_id=books["entity"].id, date_to=dt.date(2026, 4, 30))
    rows = {row.code: row for row in report.rows}
    assert (rows["1100"].debit, rows["1100"].credit, rows["1100"].balance) == (
        Decimal("1330.50"), Decimal("400.00"), Decimal("930.50"))
    assert rows["4000"].balance == Decimal("-1330.50")
    assert rows["1000"].balance == Decimal("499.00")
    assert [(c["currency"], c["balance"], c["functional_balance"]) for c in rows["1000"].currencies] == [
        ("EUR", Decimal("400.00"), Decimal("400.00")), ("USD", Decimal("110.00"), Decimal("99.00")),
    ]
    assert report.total_debit == report.total_credit == Decimal("1829.50")
    assert report.total_balance == 0


def test_trial_balance_date_range_selects_postings(books):
    march = trial_balance(legal_entity_id=books["entity"].id, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    assert {row.code: row.balance for row in march.rows} == {
        "1100": Decimal("1080.00"), "4000": Decimal("-1080.00"),
    }


def test_ar_by_customer_groups_and_respects_visibility(books):
    controller = user_with_role(CONTROLLER)
    rows = list(ar_by_customer(user=controller))
    assert [(r["customer__legal_name"], r["currency"], r["open_total"], r["overdue_total"], r["item_count"], r["oldest_due"])
            for r in rows] == [
        ("Mine AG", "EUR", Decimal("850.50"), Decimal("600.00"), 2, dt.date(2026, 3, 31)),
        ("Theirs AG", "EUR", Decimal("80.00"), Decimal("80.00"), 1, dt.date(2026, 4, 4)),
    ]
    assert [r["customer__legal_name"] for r in ar_by_customer(user=books["rep"])] == ["Mine AG"]
    assert list(ar_by_customer(user=controller, currency="USD")) == []


def test_ar_reconciliation_is_zero(books):
    rows = ar_reconciliation(legal_entity_id=books["entity"].id)
    assert [(r["account"].code, r["currency"], r["ledger_balance"], r["open_items_total"], r["difference"]) for r in rows] == [
        ("1100", "EUR", Decimal("930.50"), Decimal("930.50"), Decimal("0")),
    ]


def test_customer_balance_and_open_items(books):
    assert customer_balance(customer_id=books["mine"].id) == [
        {"currency": "EUR", "balance": Decimal("850.50"), "overdue": Decimal("600.00"), "item_count": 2,
         "oldest_due": dt.date(2026, 3, 31)},
    ]
    assert [i.document_number for i in customer_open_items(customer_id=books["mine"].id)] == ["INV-1", "INV-2"]


def test_journal_entries_filters_and_totals(books):
    entity = books["entity"]
    assert journal_entries(legal_entity_id=entity.id).count() == 5
    invoices = journal_entries(legal_entity_id=entity.id, kind="invoice", customer_id=books["mine"].id)
    assert sorted(e.functional_total for e in invoices) == [Decimal("250.50"), Decimal("1000.00")]
    assert all(e.line_count == 2 for e in invoices)
    assert journal_entries(search="INV-3").count() == 1
    assert journal_entries(date_from=dt.date(2026, 4, 3)).get() == books["usd"]


def test_gl_export_rows(books):
    entity = books["entity"]
    period = Period.objects.get(legal_entity=entity, year=2026, month=4)
    receipt = journal_entries(legal_entity_id=entity.id, kind="receipt", date_to=dt.date(2026, 4, 2)).get()
    journal_reverse(entry_id=receipt.id, by=None, document_date=dt.date(2026, 4, 20))
    rows = list(gl_export_rows(legal_entity_id=entity.id, period_id=period.id))
    assert len(rows) == 2 + 2 + 2 + 2  # INV-2, receipt, USD receipt, reversal
    by_header = [dict(zip(GL_EXPORT_HEADER, row, strict=True)) for row in rows]
    usd = [r for r in by_header if r["currency"] == "USD"][0]
    assert (usd["debit"], usd["credit"], usd["fx_rate"], usd["functional_debit"], usd["functional_currency"]) == (
        "110.0000", "", "0.9000000000", "99.0000", "EUR")
    reversal = [r for r in by_header if r["reverses"]]
    assert [(r["account_code"], r["debit"], r["credit"], r["line"]) for r in reversal] == [
        ("1000", "", "400.0000", 1), ("1100", "400.0000", "", 2)]
    assert all(r["period"] == "2026-04" for r in by_header)


def test_ar_by_customer_ranks_in_functional_currency_and_never_shows_negative_overdue(today):
    """3,960,077 JPY (about 26,400 USD) ranks below 146,601.55 USD; a customer whose unapplied
    cash exceeds its overdue invoices shows 0 overdue, not a negative amount (issue 16)."""
    from tests.factories.ledger import FxRateFactory

    today(dt.date(2026, 4, 15))
    entity = LegalEntityFactory(functional_currency="USD")
    FxRateFactory(date=dt.date(2026, 1, 31), from_currency="JPY", to_currency="USD", rate=Decimal("0.0066667"))
    yen, dollars, credit = (CustomerFactory(legal_name=name) for name in ("Yen KK", "Dollar Inc", "Credit Ltd"))
    post_invoice(entity, yen, "3960077", currency="JPY", date=dt.date(2026, 3, 1))
    post_invoice(entity, dollars, "146601.55", currency="USD", date=dt.date(2026, 4, 1))
    post_invoice(entity, credit, "100.00", currency="USD", date=dt.date(2026, 2, 1))   # overdue
    journal_post(legal_entity_id=entity.id, kind="receipt", document_date=dt.date(2026, 3, 3), by=None,
                 currency="USD", lines=[  # 250.00 on account: an open credit item
                     LineSpec(Decimal("250.00"), role="cash"),
                     LineSpec(Decimal("-250.00"), role="unapplied_cash", customer_id=credit.id,
                              open_item=OpenItemSpec("receipt", "RCPT-1", dt.date(2026, 3, 3), dt.date(2026, 3, 3))),
                 ])
    rows = list(ar_by_customer(user=user_with_role(CONTROLLER)))
    assert [(r["customer__legal_name"], r["open_total"], r["functional_open"].quantize(Decimal("0.01")))
            for r in rows] == [
        ("Dollar Inc", Decimal("146601.55"), Decimal("146601.55")),
        ("Yen KK", Decimal("3960077.00"), Decimal("26400.65")),
        ("Credit Ltd", Decimal("-150.00"), Decimal("-150.00")),
    ]
    assert rows[-1]["overdue_total"] == 0
