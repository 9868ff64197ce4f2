"""KPIs from snapshots, with the worked example of docs/aging-kpis.md."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from otc.roles import FINANCE_MANAGER, SALES_REP
from receivables.aging.kpis import ar_kpis, cei, dso_count_back, dso_simple
from receivables.aging.reports import report_exceptions
from receivables.models import AgingSnapshot, AgingSnapshotLine, AgingSnapshotRun
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory
from tests.factories.otc import user_with_role

D = Decimal
BUCKETS = "..0, 1-30, 31-60, 61-90, 91-120, 121.."
LABELS = ["Current", "1-30", "31-60", "61-90", "91-120", "Over 120"]


def test_worked_example_dso_count_back_best_possible_add_and_cei():
    sales, days = [D(100000), D(80000), D(60000)], [31, 28, 31]  # March, February, January
    assert dso_simple(D(150000), sales, days) == D("56.3")       # 150,000 / 240,000 x 90
    assert dso_count_back(D(150000), sales, days) == D("48.5")   # 31 + 50,000 / 80,000 x 28
    assert dso_simple(D(90000), sales, days) == D("33.8")        # best possible: current only
    assert cei(D(130000), D(100000), D(150000), D(90000)) == D("57.1")  # 80,000 / 140,000
    assert dso_count_back(D(300000), sales, days) is None        # sales never cover it
    assert dso_count_back(D(0), sales, days) == 0
    assert dso_simple(D(1), [D(0)] * 3, days) is None


def _snapshot(entity, as_of, sales, lines):
    run = AgingSnapshotRun.objects.create(as_of=as_of, status="complete")
    snap = AgingSnapshot.objects.create(run=run, legal_entity=entity, as_of=as_of, status="complete", buckets=BUCKETS,
                                        functional_currency="EUR", fx_rates={"EUR": "1"}, sales={"invoiced": str(sales)})
    for customer, kind, bucket, amount in lines:
        AgingSnapshotLine.objects.create(snapshot=snap, customer=customer, currency="EUR", kind=kind, bucket=bucket,
                                         bucket_label=LABELS[bucket], amount=amount, fx_rate=1, functional_amount=amount)
    return snap


@pytest.fixture
def history(db):
    entity = LegalEntityFactory(code="K1", functional_currency="EUR")
    big = CustomerFactory(legal_name="Big AG", default_currency="EUR", credit_limit=D("100000"))
    small = CustomerFactory(legal_name="Small SARL", default_currency="EUR", credit_limit=D("50000"))
    _snapshot(entity, dt.date(2026, 1, 31), 60000, [(big, "debit", 0, D(70000))])
    _snapshot(entity, dt.date(2026, 2, 28), 80000, [(big, "debit", 0, D(100000)), (small, "debit", 1, D(30000))])
    _snapshot(entity, dt.date(2026, 3, 15), 40000, [(big, "debit", 0, D(1))])  # mid-month: not the month's
    _snapshot(entity, dt.date(2026, 3, 31), 100000, [
        (big, "debit", 0, D(90000)), (big, "debit", 1, D(40000)), (small, "debit", 4, D(20000)),
        (small, "unapplied", 0, D(-5000)), (big, "credit", 0, D(-1000))])
    return {"entity": entity, "big": big, "small": small}


def test_kpis_read_the_month_end_snapshots(history):
    [block] = ar_kpis(user=None, months=3, as_of=dt.date(2026, 3, 31))
    assert [m.month for m in block.months] == [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)]
    march = block.latest
    assert (march.total_ar, march.receivables, march.current, march.overdue, march.over_90) == (
        D("144000.0000"), D("150000.0000"), D("90000.0000"), D("60000.0000"), D("20000.0000"))
    assert (march.overdue_pct, march.over_90_pct, march.unapplied_cash) == (D("40.0"), D("13.3"), D("5000.0000"))
    assert (march.dso, march.dso_count_back, march.best_dso, march.add, march.cei) == (
        D("56.3"), D("48.5"), D("33.8"), D("22.5"), D("57.1"))
    assert [e["customer"].legal_name for e in block.top_overdue] == ["Big AG", "Small SARL"]
    big = block.top_overdue[0]
    assert (big["overdue"], big["overdue_change"], big["change"]) == (D("40000.0000"), D("40000.0000"), D("29000.0000"))
    assert [(e["customer"].legal_name, e["excess"]) for e in block.over_limit] == [("Big AG", D("29000.0000"))]
    assert block.concentration_pct == D("100.0")


def test_exceptions_name_the_rule_and_its_threshold(history, settings):
    [block] = ar_kpis(user=None, months=3, as_of=dt.date(2026, 3, 31))
    texts = [e["text"] for e in report_exceptions([block])]
    assert "K1: 40.0 % of receivables is overdue (threshold 25 %)." in texts
    assert "K1: 13.3 % is more than 90 days overdue (threshold 10 %)." in texts
    assert any("Big AG owes 129,000.00 EUR, over its credit limit of 100,000.00 EUR" in t for t in texts)
    settings.AR_REPORT_THRESHOLDS = {"overdue_pct": "50", "over_90_pct": "20"}
    rules = {e["rule"] for e in report_exceptions([block])}
    assert "overdue_pct" not in rules and "over_90_pct" not in rules


def test_a_sales_rep_gets_own_customers_and_no_dso(history, client, today):
    rep = user_with_role(SALES_REP)
    history["small"].sales_owner = rep
    history["small"].save()
    [block] = ar_kpis(user=rep, months=3, as_of=dt.date(2026, 3, 31))
    assert block.latest.receivables == D("20000.0000") and block.latest.dso is None
    today(dt.date(2026, 4, 2))
    client.force_login(user_with_role(FINANCE_MANAGER))
    response = client.get(reverse("receivables:kpis"))
    assert response.status_code == 200 and "kpi-K1-dso" in response.content.decode()
    home = client.get(reverse("home"))
    assert 'data-panel="receivables-ar-kpis"' in home.content.decode()
