"""The aging snapshot job: complete and dated with the FX rates used, idempotent per date (a re-run
replaces in one transaction), chunked with progress and resume, frozen at period close."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.services import period_close, period_for_posting, period_reopen
from otc.errors import PermissionDenied
from otc.roles import CONTROLLER, FINANCE_MANAGER
from receivables.aging import services as snapshot_services
from receivables.aging.tasks import aging_snapshot_nightly_task
from receivables.models import AgingSnapshot, AgingSnapshotLine, AgingSnapshotRun
from tests.factories.ledger import post_receipt
from tests.factories.otc import user_with_role

from .conftest import AS_OF, item_of

D = Decimal


def _lines(snapshot):
    return {(x.customer.legal_name, x.kind, x.bucket_label): x.amount for x in snapshot.lines.select_related("customer")}


def test_a_snapshot_holds_every_customer_currency_kind_and_bucket_with_its_rates(aging_book, today):
    today(dt.date(2026, 7, 1))
    run = snapshot_services.aging_snapshot_take(as_of=AS_OF)
    assert run.status == "complete" and run.chunks_done == run.chunks_total == 1
    snapshot = AgingSnapshot.objects.get(status="complete")
    assert (snapshot.as_of, snapshot.buckets, snapshot.fx_rates) == (AS_OF, "..0, 1-30, 31-60, 61-90, 91-120, 121..",
                                                                   {"EUR": "1"})
    assert snapshot.control_balances == {"EUR": "3050.0000"}
    assert _lines(snapshot) == {
        ("Acme GmbH", "debit", "Current"): D("1000.0000"), ("Acme GmbH", "debit", "1-30"): D("500.0000"),
        ("Acme GmbH", "debit", "91-120"): D("1400.0000"), ("Acme GmbH", "credit", "1-30"): D("-100.0000"),
        ("Beta SA", "debit", "Over 120"): D("300.0000"), ("Beta SA", "unapplied", "1-30"): D("-50.0000"),
    }
    assert all(line.fx_rate == 1 and line.functional_amount == line.amount for line in snapshot.lines.all())


def test_a_rerun_replaces_the_snapshot_of_its_date(aging_book, today):
    today(dt.date(2026, 7, 20))
    snapshot_services.aging_snapshot_take(as_of=AS_OF)
    post_receipt(item_of(aging_book["a1"]), "1000.00", date=dt.date(2026, 6, 30))  # a late posting dated in June
    snapshot_services.aging_snapshot_take(as_of=AS_OF)
    published = AgingSnapshot.objects.get(status="complete")
    assert AgingSnapshot.objects.filter(as_of=AS_OF).count() == 1
    assert ("Acme GmbH", "debit", "Current") not in _lines(published)
    assert AgingSnapshotLine.objects.count() == 5


def test_chunks_show_progress_and_a_failed_run_resumes_only_the_rest(aging_book, today, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    today(dt.date(2026, 7, 1))
    calls = {"n": 0}
    real = snapshot_services.aging_groups

    def flaky(**kwargs):
        if kwargs.get("customer_ids") is not None:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("worker lost")
        return real(**kwargs)

    monkeypatch.setattr(snapshot_services, "aging_groups", flaky)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        snapshot_services.aging_snapshot_start(as_of=AS_OF, chunk_size=1)
    run = AgingSnapshotRun.objects.get()
    assert (run.status, run.chunks_total, run.chunks_done) == ("failed", 2, 1)
    assert "worker lost" in run.error
    assert not AgingSnapshot.objects.filter(status="complete").exists()
    with django_capture_on_commit_callbacks(execute=True):
        snapshot_services.aging_snapshot_resume(run_id=run.id, by=user_with_role(CONTROLLER))
    run.refresh_from_db()
    assert (run.status, run.chunks_done) == ("complete", 2)
    assert calls["n"] == 3  # the done chunk was not built again
    assert AgingSnapshotLine.objects.count() == 6


def test_a_month_end_snapshot_is_frozen_when_the_period_closes(aging_book, today):
    today(dt.date(2026, 7, 10))
    entity, controller = aging_book["entity"], user_with_role(CONTROLLER)
    for month in range(1, 7):
        period, _ = period_for_posting(legal_entity_id=entity.id, date=dt.date(2026, month, 1))
        period_close(period_id=period.id, by=controller)
    june = AgingSnapshot.objects.get(as_of=AS_OF, status="complete")
    assert june.frozen_at is not None and june.frozen_period.month == 6
    assert june.run.trigger == "period_close"
    before = _lines(june)
    snapshot_services.aging_snapshot_take(as_of=AS_OF)  # the nightly re-run skips a frozen date
    assert AgingSnapshot.objects.get(as_of=AS_OF, status="complete").pk == june.pk
    assert _lines(june) == before
    period_reopen(period_id=june.frozen_period_id, by=controller, note="late credit note")
    assert AgingSnapshot.objects.get(pk=june.pk).frozen_at is None


def test_the_nightly_task_snapshots_yesterday(aging_book, today, django_capture_on_commit_callbacks):
    today(dt.date(2026, 7, 1))
    with django_capture_on_commit_callbacks(execute=True):
        run_id = aging_snapshot_nightly_task()
    run = AgingSnapshotRun.objects.get(pk=run_id)
    assert (run.as_of, run.trigger, run.status) == (AS_OF, "nightly", "complete")


def test_who_may_run_the_job_and_the_progress_page(client, aging_book, today, django_capture_on_commit_callbacks):
    today(dt.date(2026, 7, 1))
    with pytest.raises(PermissionDenied):
        snapshot_services.aging_snapshot_start(as_of=AS_OF, by=user_with_role(FINANCE_MANAGER))
    assert not AgingSnapshotRun.objects.exists()
    client.force_login(user_with_role(FINANCE_MANAGER))
    assert client.post(reverse("receivables:aging_snapshot_start"), {"as_of": "2026-06-30"}).status_code == 403
    client.force_login(user_with_role(CONTROLLER))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("receivables:aging_snapshot_start"), {"as_of": "2026-06-30"})
    run = AgingSnapshotRun.objects.get()
    assert response.url == reverse("receivables:aging_snapshot_run", args=[run.pk])
    page = client.get(response.url)
    assert page.status_code == 200 and 'data-testid="run-status">Complete<' in page.content.decode()
    assert client.get(reverse("receivables:aging_snapshots")).status_code == 200
