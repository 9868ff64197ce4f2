"""A past as-of aging read from the published snapshot of that date while it is still exact, the
reports kept per process, and the control tie-out over the control accounts' lines only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from otc.roles import SALES_REP
from receivables.aging import services as snapshot_services
from receivables.aging.cache import aging_report_cached
from receivables.aging.engine import AgingParams, aging_report, control_balances
from receivables.models import AgingPolicy, AgingSnapshot, AgingSnapshotRun
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import post_invoice, post_receipt
from tests.factories.otc import user_with_role

from .conftest import AS_OF, item_of

D = Decimal
GROUPINGS = ["customer", "group", "country", "risk", "sales_rep", "currency", "entity"]


def _figures(report):
    return [(b.entity.code, [(r.key, r.currency, r.buckets, r.credits, r.unapplied, r.total, r.functional_total)
                             for r in sorted(b.rows, key=lambda r: (str(r.key), r.currency))],
             b.functional_buckets, b.functional_total, b.control) for b in report.entities]


@pytest.fixture
def snapshotted(aging_book, today):
    today(dt.date(2026, 7, 20))
    run = snapshot_services.aging_snapshot_take(as_of=AS_OF)
    assert run.status == "complete"
    return aging_book


@pytest.mark.parametrize("group_by", GROUPINGS)
@pytest.mark.parametrize(("by", "net"), [("document", False), ("document", True), ("customer", False)])
def test_the_snapshot_gives_the_same_aging_as_the_books(snapshotted, group_by, by, net):
    params = AgingParams(as_of=AS_OF, group_by=group_by, by=by, net=net)
    from_snapshot = aging_report(params=params, user=None)
    from_books = aging_report(params=params, user=None, use_snapshots=False)
    snapshot = AgingSnapshot.objects.get(status="complete")
    assert [b.snapshot_id for b in from_snapshot.entities] == [snapshot.id]
    assert [b.snapshot_id for b in from_books.entities] == [None]
    assert _figures(from_snapshot) == _figures(from_books)
    assert from_snapshot.entities[0].functional_total == D("3050.00")


def test_the_snapshot_reads_a_constant_number_of_queries_and_none_of_the_books_lines(snapshotted):
    params = AgingParams(as_of=AS_OF)
    with CaptureQueriesContext(connection) as ctx:
        report = aging_report(params=params, user=None, tie_out=False)
    assert report.entities[0].snapshot_id is not None
    assert not [q for q in ctx.captured_queries if "ledger_openitem" in q["sql"]]
    before = len(ctx)
    for i in range(10):
        post_invoice(snapshotted["entity"], CustomerFactory(), f"{10 + i}.00", date=dt.date(2026, 7, 2), currency="EUR")
    with CaptureQueriesContext(connection) as ctx:
        report = aging_report(params=params, user=None, tie_out=False)
    assert report.entities[0].snapshot_id is not None and len(ctx) == before


def test_a_posting_dated_by_the_date_after_the_snapshot_sends_it_back_to_the_books(snapshotted):
    post_receipt(item_of(snapshotted["a1"]), "250.00", date=AS_OF)  # late, dated on the as-of date
    block = aging_report(params=AgingParams(as_of=AS_OF), user=None).entities[0]
    assert block.snapshot_id is None
    assert block.functional_total == D("2800.00") and block.control_difference == 0


def test_a_posting_dated_after_the_date_leaves_the_snapshot_exact(snapshotted):
    post_receipt(item_of(snapshotted["a1"]), "250.00", date=dt.date(2026, 7, 10))
    block = aging_report(params=AgingParams(as_of=AS_OF), user=None).entities[0]
    assert block.snapshot_id is not None
    assert block.functional_total == D("3050.00") and block.control_difference == 0


def test_other_buckets_another_basis_or_demo_history_are_not_read_from_the_snapshot(snapshotted):
    assert aging_report(params=AgingParams(as_of=AS_OF, buckets="..0, 1-60, 61.."), user=None).entities[0].snapshot_id is None
    assert aging_report(params=AgingParams(as_of=AS_OF, basis="document"), user=None).entities[0].snapshot_id is None
    AgingPolicy.objects.create(legal_entity=snapshotted["entity"], buckets="..0, 1-45, 46..")
    assert aging_report(params=AgingParams(as_of=AS_OF), user=None).entities[0].snapshot_id is None
    AgingPolicy.objects.all().delete()
    AgingSnapshotRun.objects.update(trigger=AgingSnapshotRun.Trigger.DEMO)
    assert aging_report(params=AgingParams(as_of=AS_OF), user=None).entities[0].snapshot_id is None
    AgingSnapshotRun.objects.update(trigger=AgingSnapshotRun.Trigger.NIGHTLY)
    AgingSnapshot.objects.update(books_entry_id=None)  # taken before the books stamp existed
    assert aging_report(params=AgingParams(as_of=AS_OF), user=None).entities[0].snapshot_id is None


def test_a_sales_rep_reads_only_own_customers_from_the_snapshot(snapshotted):
    rep = user_with_role(SALES_REP)
    snapshotted["beta"].sales_owner = rep
    snapshotted["beta"].save()
    block = aging_report(params=AgingParams(as_of=AS_OF), user=rep).entities[0]
    assert block.snapshot_id is not None and block.control is None
    assert [(r.label, r.total) for r in block.rows] == [("Beta SA", D("250.00"))]


def test_the_snapshot_records_the_last_entry_it_saw(snapshotted):
    from ledger.models import JournalEntry

    snapshot = AgingSnapshot.objects.get(status="complete")
    assert snapshot.books_entry_id == JournalEntry.objects.order_by("-pk").values_list("pk", flat=True).first()


def test_a_report_kept_in_the_process_costs_only_its_key_and_is_a_copy(aging_book):
    params = AgingParams(as_of=AS_OF)
    first = aging_report_cached(params=params, user=None)
    with CaptureQueriesContext(connection) as ctx:
        again = aging_report_cached(params=params, user=None)
    assert len(ctx) <= 5  # the books stamp; no aging query
    again.entities[0].rows.reverse()
    assert [r.label for r in aging_report_cached(params=params, user=None).entities[0].rows] == \
        [r.label for r in first.entities[0].rows]
    post_receipt(item_of(aging_book["a1"]), "250.00", date=AS_OF)
    assert aging_report_cached(params=params, user=None).entities[0].functional_total == D("2800.00")


def test_the_tie_out_reads_the_control_accounts_as_of_the_date(aging_book):
    # B2 (700.00) is posted on 07-05, after the as-of date: the lines' dates count
    assert control_balances(legal_entity_id=aging_book["entity"].id, as_of=AS_OF) == {"EUR": D("3050.0000")}
    assert control_balances(legal_entity_id=aging_book["entity"].id, as_of=dt.date(2026, 7, 5)) == {"EUR": D("3750.0000")}
    block = aging_report(params=AgingParams(as_of=dt.date(2026, 7, 5)), user=None).entities[0]
    assert block.control == [{"currency": "EUR", "aging_total": D("3750.0000"), "control_balance": D("3750.0000"),
                              "difference": D("0.0000")}]


def test_the_aging_by_collector_follows_a_reassignment_at_once(aging_book):
    from collections_app.models import CollectorAssignment
    from otc import dates
    from tests.factories.otc import UserFactory

    first, second = UserFactory(username="coll1"), UserFactory(username="coll2")
    assignment = CollectorAssignment.objects.create(customer=aging_book["acme"], collector=first, assigned_at=dates.now())
    params = AgingParams(as_of=AS_OF, group_by="collector")
    assert {r.key for r in aging_report_cached(params=params, user=None).entities[0].rows} == {first.id, None}
    assignment.collector = second
    assignment.save()  # posts nothing, writes no customer history
    assert {r.key for r in aging_report_cached(params=params, user=None).entities[0].rows} == {second.id, None}
