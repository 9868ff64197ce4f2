"""The month-end billing run: drafts with exact totals, exceptions, idempotent re-runs, a run
interrupted mid-way and resumed, issuing through invoices_issue with a balanced ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import BillingException, BillingRun, Invoice, InvoiceLine
from billing.services import (
    billing_run_generate_chunk,
    billing_run_issue,
    billing_run_resume,
    billing_run_start,
)
from billing.tasks import billing_run_monthly
from contracts.models import ContractLine, ContractVersion, UsageRecord
from ledger.selectors import ar_reconciliation
from otc.errors import InvalidTransition, PermissionDenied
from tests.factories.billing import de_entity
from tests.factories.billing_run import MARCH, contract, customer, invoice_of, run
from tests.factories.contracts import (
    ContractLineFactory,
    ContractVersionFactory,
    ProductFactory,
)
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
# --- drafts ------------------------------------------------------------------------------------

def test_run_bills_a_prorated_line_from_the_unrounded_price(django_capture_on_commit_callbacks):
    """DESIGN's proration rule end to end: 200 seats x 45.00 x 12/31 less 10% = 3,135.48 (the
    4-place price 17.4194 would give 3,135.49); tax on that net, rounded once."""
    entity = de_entity()
    seats = contract(entity, start_date=dt.date(2026, 3, 20),
                     lines=[{"unit_price": D("45.00"), "quantity": D("200"), "discount_percent": D("10")}])
    run(capture=django_capture_on_commit_callbacks)
    [line] = invoice_of(seats).lines.all()
    assert (line.quantity, line.unit_price, line.discount_percent, line.net_amount, line.tax_amount) == (
        D("200"), D("17.4194"), D("10"), D("3135.48"), D("595.74"))
    assert invoice_of(seats).gross_total == D("3731.22")


def test_run_creates_drafts_with_exact_totals_and_counts(django_capture_on_commit_callbacks):
    entity = de_entity()
    prorated = contract(entity, start_date=dt.date(2026, 3, 10))
    quarterly = contract(entity, billing_frequency="quarterly", lines=[
        {"unit_price": D("99.99"), "quantity": D("3"), "discount_percent": D("10")},
        {"kind": "one_time", "unit_price": D("2500.00"), "description": "Setup"},
    ], discount_percent=D("5"), start_date=dt.date(2026, 3, 1))
    yen = contract(entity, currency="JPY", lines=[{"unit_price": D("100000")}], start_date=dt.date(2026, 3, 10))
    result = run(capture=django_capture_on_commit_callbacks)

    first = invoice_of(prorated)
    assert (first.net_total, first.tax_total, first.gross_total) == (D("2200.00"), D("418.00"), D("2618.00"))
    assert (first.status, first.on_hold, first.billing_run_id, first.currency) == ("draft", False, result.pk, "EUR")
    assert (first.service_start, first.service_end, first.payment_terms_days) == (
        dt.date(2026, 3, 10), dt.date(2026, 3, 31), 30)
    [line] = first.lines.all()
    assert (line.contract_line_key, line.unit_price, line.net_amount, line.tax_rate, line.tax_amount) == (
        prorated.current_version.lines.get().line_key, D("2200.0000"), D("2200.00"), D("19.0000"), D("418.00"))
    assert line.description.endswith("10 Mar 2026 - 31 Mar 2026 (22/31 days)")

    q = invoice_of(quarterly)
    # 3 x 99.99 x 3 months = 899.91 x 0.855 = 769.42305 -> 769.42 ; setup 2500 x 0.95 = 2375.00
    assert [(x.net_amount, x.tax_amount, x.discount_percent) for x in q.lines.order_by("position")] == [
        (D("769.42"), D("146.19"), D("14.5")), (D("2375.00"), D("451.25"), D("5"))]
    assert (q.net_total, q.tax_total, q.gross_total) == (D("3144.42"), D("597.44"), D("3741.86"))
    assert (q.service_start, q.service_end) == (dt.date(2026, 3, 1), dt.date(2026, 5, 31))

    jpy = invoice_of(yen)
    assert (jpy.net_total, jpy.tax_total, jpy.gross_total) == (D("70968"), D("13484"), D("84452"))

    assert (result.status, result.contracts_total, result.contracts_done, result.invoices_created,
            result.skipped, result.exceptions_count) == ("generated", 3, 3, 3, 0, 0)
    assert result.finished_at is not None


@pytest.mark.parametrize("copy_threshold", [0, 10_000])  # PostgreSQL: the database copies the rows / from objects
def test_each_draft_has_its_creation_in_its_history(django_capture_on_commit_callbacks, monkeypatch, copy_threshold):
    from otc import bulk

    monkeypatch.setattr(bulk, "COPY_THRESHOLD", copy_threshold)
    entity = de_entity()
    drafts = [contract(entity, start_date=dt.date(2026, 3, day)) for day in (1, 10, 20)]
    run(capture=django_capture_on_commit_callbacks)

    history = Invoice.history.model
    tracked = [field.attname for field in history.tracked_fields]
    for drafted in drafts:
        invoice = invoice_of(drafted)
        [row] = invoice.history.all()
        assert (row.history_type, row.history_change_reason, row.history_user_id) == ("+", "billing run", None)
        assert {name: getattr(row, name) for name in tracked} == {name: getattr(invoice, name) for name in tracked}
        assert (row.status, row.gross_total) == ("draft", invoice.gross_total) and row.gross_total > 0


def test_amendment_mid_month_bills_two_slices_of_one_line(django_capture_on_commit_callbacks):
    entity = de_entity()
    c = contract(entity, status="active", start_date=dt.date(2026, 1, 1))
    v1 = c.current_version
    v1.status = "superseded"
    v1.save(update_fields=["status"])
    key = v1.lines.get().line_key
    v2 = ContractVersionFactory(contract=c, version=2, amends=v1, status="active", effective_date=dt.date(2026, 3, 15))
    ContractLineFactory(version=v2, line_key=key, unit_price=D("6200.00"), product=v1.lines.get().product)
    run(capture=django_capture_on_commit_callbacks)
    lines = list(invoice_of(c).lines.order_by("position"))
    assert [(x.contract_line_key, x.service_start, x.service_end, x.net_amount) for x in lines] == [
        (key, dt.date(2026, 3, 1), dt.date(2026, 3, 14), D("1400.00")),
        (key, dt.date(2026, 3, 15), dt.date(2026, 3, 31), D("3400.00")),
    ]


def test_exceptions_hold_skip_and_warn(django_capture_on_commit_callbacks):
    entity = de_entity()
    on_hold = contract(entity, cust=customer(status="on_hold", status_reason="Disputed balance"))
    blocked = contract(entity, cust=customer(status="blocked", status_reason="Fraud check"))
    no_vat = contract(entity, cust=customer(tax_id=""))
    po = contract(entity, cust=customer(po_required=True))
    usage = contract(entity, lines=[{"kind": "usage", "unit_price": D("0.05"), "minimum_commitment": D("500.00"),
                                     "description": "API calls"}])
    empty = contract(entity, lines=[])
    ContractLine.objects.filter(version__contract=empty).delete()
    later = contract(entity, start_date=dt.date(2026, 5, 1))  # not billable in March: not in the run
    result = run(capture=django_capture_on_commit_callbacks)

    held = invoice_of(on_hold)
    assert (held.on_hold, held.hold_reason) == (True, "Customer on hold: Disputed balance")
    assert not Invoice.objects.filter(contract=blocked).exists()
    assert not invoice_of(no_vat).on_hold
    assert (invoice_of(po).on_hold, invoice_of(po).hold_reason) == (True, "PO number required")
    billed = invoice_of(usage)  # February usage missing: the minimum alone is billed
    assert [(x.quantity, x.unit_price, x.net_amount) for x in billed.lines.all()] == [(D(1), D("500.0000"),
                                                                                      D("500.00"))]
    assert not Invoice.objects.filter(contract__in=[empty, later]).exists()

    codes = {(e.contract_id, e.code, e.severity) for e in BillingException.objects.filter(run=result)}
    assert codes == {
        (on_hold.pk, "customer_on_hold", "hold"), (blocked.pk, "customer_blocked", "skip"),
        (no_vat.pk, "missing_tax_id", "warning"), (po.pk, "po_missing", "hold"),
        (usage.pk, "usage_missing", "warning"), (empty.pk, "no_lines", "skip"),
    }
    assert (result.contracts_total, result.contracts_done, result.invoices_created, result.skipped,
            result.exceptions_count) == (6, 6, 4, 2, 6)


def test_usage_reported_is_billed_at_the_rate(django_capture_on_commit_callbacks):
    entity = de_entity()
    c = contract(entity, lines=[{"kind": "usage", "unit_price": D("0.05"), "minimum_commitment": D("500.00"),
                                 "description": "API calls"}])
    key = c.current_version.lines.get().line_key
    for n, qty in enumerate(("8000", "4500")):
        UsageRecord.objects.create(contract=c, line_key=key, period_start=dt.date(2026, 2, 1), quantity=D(qty),
                                   source_id=f"u-{n}")
    result = run(capture=django_capture_on_commit_callbacks)
    [line] = invoice_of(c).lines.all()
    assert (line.quantity, line.net_amount, line.service_start) == (D("12500"), D("625.00"), dt.date(2026, 2, 1))
    assert result.exceptions_count == 0


# --- idempotency ---------------------------------------------------------------------------------

def test_running_twice_bills_each_contract_once(django_capture_on_commit_callbacks):
    entity = de_entity()
    contracts = [contract(entity) for _ in range(5)]
    first = run(capture=django_capture_on_commit_callbacks)
    second = run(capture=django_capture_on_commit_callbacks)
    for c in contracts:
        assert Invoice.objects.filter(contract=c, billing_period_start=MARCH).count() == 1
    assert InvoiceLine.objects.count() == 5
    assert (first.invoices_created, second.invoices_created, second.skipped, second.status) == (5, 0, 5, "generated")
    assert set(BillingException.objects.filter(run=second).values_list("code", flat=True)) == {"already_invoiced"}
    assert second.exceptions_count == 0  # informational only


def test_redelivered_chunk_changes_nothing(django_capture_on_commit_callbacks):
    entity = de_entity()
    ids = [contract(entity).pk for _ in range(3)]
    result = run(capture=django_capture_on_commit_callbacks)
    again = billing_run_generate_chunk(run_id=result.pk, contract_ids=ids)
    assert again == {"contracts": 0, "invoices": 0, "skipped": 0, "exceptions": 0, "already_done": 3}
    result.refresh_from_db()
    assert (result.contracts_done, result.invoices_created, Invoice.objects.count()) == (3, 3, 3)


def test_interrupted_run_is_completed_by_a_second_run(django_capture_on_commit_callbacks):
    entity = de_entity()
    ids = sorted(contract(entity).pk for _ in range(6))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # the workers never start
        interrupted = billing_run_start(period_start=MARCH, by=None, chunk_size=2)
    assert len(callbacks) == 1
    billing_run_generate_chunk(run_id=interrupted.pk, contract_ids=ids[:2])  # one chunk, then the crash
    billing_run_generate_chunk(run_id=interrupted.pk, contract_ids=ids[2:4])
    interrupted.refresh_from_db()
    assert (interrupted.status, interrupted.contracts_done, interrupted.contracts_total) == ("generating", 4, 6)

    resumed = run(capture=django_capture_on_commit_callbacks, chunk_size=2)
    assert (resumed.status, resumed.invoices_created, resumed.skipped) == ("generated", 2, 4)
    assert sorted(Invoice.objects.values_list("contract_id", flat=True)) == ids
    assert Invoice.objects.filter(billing_run=resumed).count() == 2


def test_interrupted_run_resumes_itself_without_a_second_run(django_capture_on_commit_callbacks):
    entity = de_entity()
    ids = sorted(contract(entity).pk for _ in range(5))
    with django_capture_on_commit_callbacks(execute=False):
        started = billing_run_start(period_start=MARCH, by=None, chunk_size=2)
    billing_run_generate_chunk(run_id=started.pk, contract_ids=ids[:2])
    with django_capture_on_commit_callbacks(execute=True):
        resumed = billing_run_resume(run_id=started.pk, by=None, chunk_size=2)
    resumed.refresh_from_db()
    assert (resumed.pk, resumed.status, resumed.contracts_done, resumed.invoices_created, resumed.skipped) == (
        started.pk, "generated", 5, 5, 0)
    assert sorted(Invoice.objects.filter(billing_run=started).values_list("contract_id", flat=True)) == ids
    with pytest.raises(InvalidTransition):
        billing_run_resume(run_id=started.pk, by=None)
    out = StringIO()
    with pytest.raises(CommandError, match="only a run still generating resumes"):
        call_command("billing_run", "--resume", str(started.pk), stdout=out)


def test_free_period_is_a_zero_invoice_and_off_months_bill_nothing(django_capture_on_commit_callbacks):
    entity = de_entity()
    free = contract(entity, free_periods=1, start_date=MARCH)
    quarterly = contract(entity, billing_frequency="quarterly", start_date=dt.date(2026, 1, 1))
    result = run(capture=django_capture_on_commit_callbacks)
    zero = invoice_of(free)
    [line] = zero.lines.all()
    assert (line.unit_price, line.net_amount, zero.gross_total) == (D(0), D("0.00"), D("0.00"))
    assert line.description.endswith("- free period")
    assert not Invoice.objects.filter(contract=quarterly).exists()
    assert BillingException.objects.get(run=result, contract=quarterly).code == "nothing_to_bill"
    assert (result.skipped, result.exceptions_count, result.status) == (1, 0, "generated")
    issued = billing_run_issue(run_id=result.pk, by=None, issue_date=dt.date(2026, 3, 31))
    zero.refresh_from_db()
    assert (issued.invoices_issued, zero.status, zero.journal_entry_id) == (1, "issued", None)


# --- issuing -------------------------------------------------------------------------------------

def test_issue_the_run_posts_every_draft_that_passes_and_reruns_safely(django_capture_on_commit_callbacks):
    entity = de_entity()
    good = [contract(entity) for _ in range(3)]
    held = contract(entity, cust=customer(status="on_hold", status_reason="Disputed"))
    result = run(capture=django_capture_on_commit_callbacks)
    issued = billing_run_issue(run_id=result.pk, by=None, issue_date=dt.date(2026, 3, 31), chunk_size=2)
    assert (issued.status, issued.invoices_issued) == ("issued", 3)
    numbers = sorted(invoice_of(c).number for c in good)
    assert numbers == ["DE01-INV-2026-000001", "DE01-INV-2026-000002", "DE01-INV-2026-000003"]
    assert invoice_of(held).status == "draft"
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))
    ar = [row for row in ar_reconciliation(legal_entity_id=entity.pk) if row["account"].role == "ar"]
    assert ar[0]["ledger_balance"] == D("3689.00") * 3  # 3,100.00 + 19% each

    again = billing_run_issue(run_id=result.pk, by=None, issue_date=dt.date(2026, 3, 31))
    assert again.invoices_issued == 3
    assert Invoice.objects.filter(status="issued").count() == 3


def test_chunks_run_with_the_cyclic_collector_paused_and_restore_it(django_capture_on_commit_callbacks, monkeypatch):
    """Generation and issuing chunks build thousands of objects and no reference cycle: the cyclic
    collector is paused while a chunk runs (its passes cost a fifth of the workers' Python time,
    decision 0016, session 12) and is on again after it, with the same invoices and postings."""
    import gc

    from billing.services import run as run_module

    seen: dict[str, bool] = {}
    originals = {name: getattr(run_module, name) for name in ("_insert_invoices", "invoices_number")}

    def watching(name):
        def call(*args, **kwargs):
            seen[name] = gc.isenabled()
            return originals[name](*args, **kwargs)
        return call

    for name in originals:
        monkeypatch.setattr(run_module, name, watching(name))
    entity = de_entity()
    good = [contract(entity) for _ in range(2)]
    assert gc.isenabled()
    result = run(capture=django_capture_on_commit_callbacks)
    issued = billing_run_issue(run_id=result.pk, by=None, issue_date=dt.date(2026, 3, 31))
    assert seen == {"_insert_invoices": False, "invoices_number": False}
    assert gc.isenabled()
    assert (issued.status, issued.invoices_issued) == ("issued", 2)
    assert sorted(invoice_of(c).number for c in good) == ["DE01-INV-2026-000001", "DE01-INV-2026-000002"]
    assert [invoice_of(c).gross_total for c in good] == [D("3689.00")] * 2
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))


def test_issue_refused_while_generating_and_for_people_without_the_permission(django_capture_on_commit_callbacks):
    entity = de_entity()
    contract(entity)
    with django_capture_on_commit_callbacks(execute=False):
        pending = billing_run_start(period_start=MARCH, by=None)
    with pytest.raises(InvalidTransition):
        billing_run_issue(run_id=pending.pk, by=None)
    rep = user_with_role("Sales Rep")
    with pytest.raises(PermissionDenied):
        billing_run_start(period_start=MARCH, by=rep)
    assert BillingRun.objects.count() == 1
    specialist = user_with_role("Billing Specialist")
    started = run(capture=django_capture_on_commit_callbacks)
    assert started.status == "generated"
    assert billing_run_issue(run_id=started.pk, by=specialist, issue_date=dt.date(2026, 3, 31)).invoices_issued == 1
    with django_capture_on_commit_callbacks(execute=False):
        assert billing_run_start(period_start=MARCH, by=specialist).started_by == specialist


# --- entry points --------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_command_generates_and_issues_and_prints_the_counts(monkeypatch):
    monkeypatch.setattr("billing.services.invoices.documents_queue", lambda ids: None)  # no PDFs here
    entity = de_entity()
    contract(entity)
    contract(entity, cust=customer(status="blocked", status_reason="Fraud"))
    out = StringIO()
    call_command("billing_run", "--period", "2026-03", "--entity", "DE01", "--issue", stdout=out)
    text = out.getvalue()
    assert "contracts 2/2, invoices created 1, issued 0, skipped 1, exceptions 1" in text
    assert "invoices created 1, issued 1, skipped 1" in text
    assert Invoice.objects.get().status == "issued"


def test_monthly_task_starts_the_current_months_run_once(django_capture_on_commit_callbacks, today):
    entity = de_entity()
    c = contract(entity, billing_timing="arrears")
    today(dt.date(2026, 4, 1))
    with django_capture_on_commit_callbacks(execute=True):
        run_id = billing_run_monthly()
    assert billing_run_monthly() == run_id
    [line] = invoice_of(c, dt.date(2026, 4, 1)).lines.all()  # arrears: March, billed on 1 April
    assert (line.service_start, line.service_end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def test_schedule_registers_the_beat_task_idempotently():
    from django_celery_beat.models import PeriodicTask

    call_command("billing_run", "--schedule", stdout=StringIO())
    call_command("billing_run", "--schedule", stdout=StringIO())
    task = PeriodicTask.objects.get(task="billing.run_monthly")
    assert (task.crontab.day_of_month, task.crontab.hour, task.crontab.minute) == ("1", "2", "0")


def test_versions_of_other_kinds_are_not_billed(django_capture_on_commit_callbacks):
    entity = de_entity()
    draft = contract(entity, status="draft")
    ContractVersion.objects.filter(contract=draft).update(status="draft")
    result = run(capture=django_capture_on_commit_callbacks)
    assert (result.contracts_total, result.status) == (0, "generated")


# --- scale and failures --------------------------------------------------------------------------

def _chunk_queries(entity, n: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ids = [contract(entity, lines=[{"unit_price": D("100.00")}, {"kind": "usage", "unit_price": D("1")}]).pk
           for _ in range(n)]
    started = BillingRun.objects.create(period_start=MARCH, contracts_total=n)
    with CaptureQueriesContext(connection) as queries:
        counts = billing_run_generate_chunk(run_id=started.pk, contract_ids=ids)
    assert counts["invoices"] == n
    return len(queries)


def test_chunk_generation_queries_do_not_grow_with_contracts():
    entity = de_entity()
    small = _chunk_queries(entity, 3)
    Invoice.objects.all().delete()  # lines cascade; fresh contracts below anyway
    assert _chunk_queries(entity, 9) == small


def test_a_draft_that_cannot_be_issued_is_listed_and_the_rest_are_issued(django_capture_on_commit_callbacks):
    entity = de_entity()
    good = [contract(entity) for _ in range(3)]
    bad = contract(entity, lines=[{"product": ProductFactory(tax_category="digital", revenue_account_code="4999")}])
    result = run(capture=django_capture_on_commit_callbacks)
    issued = billing_run_issue(run_id=result.pk, by=None, issue_date=dt.date(2026, 3, 31), chunk_size=10)
    assert (issued.invoices_issued, issued.exceptions_count) == (3, 1)
    assert "1 draft(s) could not be issued" in issued.error
    assert [invoice_of(c).status for c in good] == ["issued"] * 3
    assert invoice_of(bad).status == "draft"
    failure = BillingException.objects.get(run=result, code="issue_failed")
    assert (failure.contract_id, failure.severity) == (bad.pk, "hold")
    assert "4999" in failure.message
    numbers = sorted(invoice_of(c).number for c in good)  # no gap where the failed chunk was tried
    assert numbers == [f"DE01-INV-2026-{n:06d}" for n in (1, 2, 3)]


def test_issue_runs_each_chunk_as_a_task_and_the_last_chunk_marks_the_run_issued(django_capture_on_commit_callbacks):
    """Each chunk of drafts is a task, keyed in the run's pending list by its first draft's id; while
    one chunk has not run, the run stays issuing; when the last ends, the run is issued (failures
    counted). A redelivered chunk changes nothing."""
    from billing.services import billing_run_issue_chunk

    de, at = de_entity("DE01"), de_entity("AT01")
    de_contracts, at_contracts = [contract(de) for _ in range(2)], [contract(at) for _ in range(3)]
    bad = contract(at, lines=[{"product": ProductFactory(tax_category="digital", revenue_account_code="4999")}])
    result = run(capture=django_capture_on_commit_callbacks)
    de_ids = sorted(invoice_of(c).pk for c in de_contracts)
    at_first = min(invoice_of(c).pk for c in [*at_contracts, bad])
    BillingRun.objects.filter(pk=result.pk).update(status="issuing", issue_pending=[de_ids[0], at_first])
    billing_run_issue_chunk(run_id=result.pk, legal_entity_id=de.pk, chunks=[de_ids], by=None,
                            issue_date=dt.date(2026, 3, 31))
    billing_run_issue_chunk(run_id=result.pk, legal_entity_id=de.pk, chunks=[de_ids], by=None,  # redelivered
                            issue_date=dt.date(2026, 3, 31))
    result.refresh_from_db()
    assert (result.status, result.invoices_issued, result.issue_pending) == ("issuing", 2, [at_first])

    done = billing_run_issue(run_id=result.pk, by=None, issue_date=dt.date(2026, 3, 31), chunk_size=2)
    assert (done.status, done.invoices_issued, done.issue_pending) == ("issued", 5, [])
    assert "1 draft(s) could not be issued" in done.error and invoice_of(bad).status == "draft"
    assert sorted(invoice_of(c).number for c in de_contracts) == ["DE01-INV-2026-000001", "DE01-INV-2026-000002"]
    assert sorted(invoice_of(c).number for c in at_contracts) == [f"AT01-INV-2026-{n:06d}" for n in (1, 2, 3)]
    assert all(row["difference"] == 0 for row in ar_reconciliation())


def test_lines_stored_against_their_position_order_are_billed_in_position_order(django_capture_on_commit_callbacks):
    """Generation reads a chunk's versions and lines in no particular order (the rows as the
    database returns them: here in the order they were inserted, the reverse of their positions,
    and the later version first); the draft's lines still follow the versions' numbers and the
    lines' positions."""
    from billing.periods import slices_from_versions

    entity = de_entity()
    c = contract(entity, start_date=dt.date(2026, 1, 1), lines=[
        {"unit_price": D("300.00"), "position": 3}, {"unit_price": D("200.00"), "position": 2},
        {"unit_price": D("100.00"), "position": 1}])
    run(capture=django_capture_on_commit_callbacks)
    lines = list(invoice_of(c).lines.order_by("position"))
    assert [(x.position, x.unit_price) for x in lines] == [(1, D("100.00")), (2, D("200.00")), (3, D("300.00"))]
    version = c.current_version
    stored = list(version.lines.all())
    forward = slices_from_versions([version], {version.id: stored})
    assert slices_from_versions([version], {version.id: stored[::-1]}) == forward
    assert [line.position for line in forward[0].lines] == [1, 2, 3]
