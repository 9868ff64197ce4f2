"""Billing-run pages: *Issue drafts* enqueues `billing_run_issue_task` (eager here) and returns
to the run page, whose progress partial polls until the run has finished issuing; refusals;
the run page's query count does not grow with its invoices and exceptions (paged)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import BillingException, BillingRun, Invoice
from billing.tasks import billing_run_issue_task
from tests.factories.billing import ISSUE
from tests.factories.billing_views import generated_run, login
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db
MARCH = dt.date(2026, 3, 1)


@pytest.fixture
def enqueued(monkeypatch):
    """Record the enqueued issue tasks instead of running them (a real broker's view)."""
    calls: list[dict] = []
    monkeypatch.setattr(billing_run_issue_task, "delay_on_commit", lambda **kwargs: calls.append(kwargs))
    return calls


def test_issue_from_the_page_runs_the_task_and_issues_the_drafts(client, today, django_capture_on_commit_callbacks,
                                                                   settings, tmp_path):
    # given a run with three drafts and one held draft (the PDFs rendered after issue go to tmp)
    settings.MEDIA_ROOT = tmp_path
    today(ISSUE)
    run = generated_run()
    login(client, "Billing Specialist")
    # when "Issue drafts" is pressed (Celery is eager: the task runs when the request commits)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:run_issue", args=[run.pk]))
    # then every draft not on hold is issued with a number and posted; the held one stays a draft
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("billing:run_detail", args=[run.pk]))
    run.refresh_from_db()
    assert (run.status, run.invoices_issued) == ("issued", 3)
    invoices = Invoice.objects.filter(billing_run=run)
    assert sorted(invoices.values_list("status", flat=True)) == ["draft", "issued", "issued", "issued"]
    assert all(i.number and i.journal_entry_id for i in invoices.filter(status="issued"))
    # and the run page shows the issuing bar complete, no longer polling
    body = client.get(response["Location"]).content.decode()
    assert 'data-testid="issue-progress"' in body and "100%" in body
    assert "3 issued · 0 drafts to issue" in body
    assert 'hx-trigger="every 2s"' not in body


def test_the_page_enqueues_the_task_and_polls_until_the_worker_is_done(client, enqueued, settings, tmp_path):
    # given a broker: the view only enqueues
    run = generated_run(drafts=3, held=0)
    user = login(client, "Billing Specialist")
    response = client.post(reverse("billing:run_issue", args=[run.pk]))
    assert enqueued == [{"run_id": run.pk, "by_id": user.pk}]
    location = response["Location"]
    assert "?issuing=" in location
    # the run page says issuing is queued and polls; no second "Issue drafts" button meanwhile
    body = client.get(location).content.decode()
    assert 'data-testid="queued"' in body and 'hx-trigger="every 2s"' in body
    assert "?issuing=" in body.split('hx-get="')[1].split('"')[0]
    assert 'data-testid="issue-drafts"' not in body
    assert "0 issued · 3 drafts to issue" in body
    # when the worker runs the task
    since = location.split("?issuing=")[1]
    assert billing_run_issue_task(run_id=run.pk, by_id=user.pk) == 3
    # then the polled partial shows the run issued and stops polling
    partial = client.get(reverse("billing:run_progress", args=[run.pk]), {"issuing": since}).content.decode()
    assert "3 issued · 0 drafts to issue" in partial and "100%" in partial
    # ...but the month-end goes on until every invoice is rendered and delivered: it still polls
    assert "hx-get" in partial and "0 rendered" in partial and "0 of 3 done" in partial
    settings.MEDIA_ROOT = tmp_path
    from billing.tasks import invoices_publish_task

    invoices_publish_task(invoice_ids=list(Invoice.objects.filter(billing_run=run).values_list("pk", flat=True)))
    partial = client.get(reverse("billing:run_progress", args=[run.pk]), {"issuing": since}).content.decode()
    assert "hx-get" not in partial and "3 rendered" in partial and "3 of 3 done" in partial
    assert "month-end finished" in partial


def test_issuing_progress_counts_what_is_left(client):
    run = generated_run(drafts=3, held=1)
    BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.ISSUING, invoices_issued=1)
    Invoice.objects.filter(pk=Invoice.objects.filter(billing_run=run, on_hold=False).order_by("pk")[0].pk).update(
        status="issued", number="DE01-INV-2026-000001")
    login(client, "Billing Specialist")
    partial = client.get(reverse("billing:run_progress", args=[run.pk])).content.decode()
    # one issued, two drafts left (the held one does not count): a third of the way
    assert "1 issued · 2 drafts to issue" in partial and "33%" in partial
    assert 'hx-trigger="every 2s"' in partial


def test_issue_refused_while_generating(client, enqueued):
    run = generated_run()
    BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.GENERATING, contracts_done=1)
    login(client, "Billing Specialist")
    response = client.post(reverse("billing:run_issue", args=[run.pk]), follow=True)
    assert "drafts can be issued once generation has finished" in response.content.decode()
    assert enqueued == []
    assert not Invoice.objects.filter(billing_run=run, status="issued").exists()


def test_users_without_the_permission_cannot_issue(client, enqueued):
    run = generated_run()
    for role in ("Auditor", "Finance Manager"):
        login(client, role)
        assert client.post(reverse("billing:run_issue", args=[run.pk])).status_code == 403
        assert client.get(reverse("billing:run_issue", args=[run.pk])).status_code == 403
        assert 'data-testid="issue-drafts"' not in client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    login(client, "Collector")  # may not even see runs
    assert client.get(reverse("billing:run_detail", args=[run.pk])).status_code == 403
    assert enqueued == []
    run.refresh_from_db()
    assert (run.status, run.invoices_issued) == ("generated", 0)


def test_task_without_a_person_issues_as_the_system(today):
    today(ISSUE)
    run = generated_run(drafts=2, held=0)
    assert billing_run_issue_task(run_id=run.pk) == 2
    assert set(Invoice.objects.filter(billing_run=run).values_list("issued_by", flat=True)) == {None}
    assert billing_run_issue_task(run_id=run.pk) == 2  # again: nothing left, nothing twice


def test_run_detail_query_count_does_not_grow_and_exceptions_are_paged(client):
    login(client, "Billing Specialist")
    small = generated_run(drafts=1, held=1, exceptions=2)
    few = queries_for(client, reverse("billing:run_detail", args=[small.pk]), {"issuing": "1"})
    big = generated_run(drafts=8, held=2, exceptions=60)
    with CaptureQueriesContext(connection) as many:
        body = client.get(reverse("billing:run_detail", args=[big.pk]), {"issuing": "1"}).content.decode()
    assert len(many) == few
    assert body.count("Exception ") == 50 and "Page 1 of 2 · 60 rows" in body
    page_two = client.get(reverse("billing:run_detail", args=[big.pk]), {"page": 2}).content.decode()
    assert page_two.count("Exception ") == 10


def test_a_stalled_issuing_run_offers_resume_and_resuming_issues_what_is_left(
        client, enqueued, django_capture_on_commit_callbacks):
    # given a run left "issuing" an hour ago by a worker that died, nothing issued since
    run = generated_run(drafts=2, held=0)
    BillingRun.objects.filter(pk=run.pk).update(status="issuing", finished_at=None)
    login(client, "Billing Specialist")
    page = reverse("billing:run_detail", args=[run.pk])
    assert "Resume issuing" not in client.get(page).content.decode()  # just started: not stalled yet
    assert client.post(reverse("billing:run_issue", args=[run.pk])).status_code == 302 and not enqueued
    BillingRun.objects.filter(pk=run.pk).update(started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    # then the page offers to resume, and resuming enqueues the issue task again
    assert "Resume issuing" in client.get(page).content.decode()
    client.post(reverse("billing:run_issue", args=[run.pk]))
    assert enqueued == [{"run_id": run.pk, "by_id": enqueued[0]["by_id"]}]
    # and the task issues only what is still a draft, then marks the run issued
    billing_run_issue_task(**enqueued[0])
    run.refresh_from_db()
    assert (run.status, run.invoices_issued) == ("issued", 2)


def test_issue_drafts_first_confirms_what_will_happen_and_writes_nothing(client, enqueued):
    # given three drafts of 1,190.00 EUR to issue and one held
    run = generated_run(drafts=3, held=1)
    login(client, "Billing Specialist")
    page = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    assert 'data-testid="issue-drafts"' in page and "Issue 3 drafts…" in page
    # when the specialist opens the confirmation
    body = client.get(reverse("billing:run_issue", args=[run.pk])).content.decode()
    # then it says what will be issued, the totals by entity and currency and how it is delivered
    assert '<strong data-testid="to-issue">3 invoices</strong>' in body and "<strong>1</strong> draft on hold" in body
    totals = body.split('data-testid="issue-totals"')[1]
    assert "DE01" in totals and "3,000.00 EUR" in totals and "570.00 EUR" in totals and "3,570.00 EUR" in totals
    assert "<strong>3</strong> by e-mail" in body
    # and nothing was issued or enqueued by looking
    assert enqueued == [] and not Invoice.objects.filter(billing_run=run, status="issued").exists()


def test_the_run_page_lists_its_drafts_with_totals_by_entity_and_currency(client):
    run = generated_run(drafts=2, held=1)
    login(client, "Billing Specialist")
    body = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    totals = body.split('data-testid="draft-totals"')[1].split("</table>")[0]
    assert ">2<" in totals and "2,380.00 EUR" in totals and "1,190.00 EUR" in totals  # 2 to issue, 1 held
    drafts = body.split('data-testid="draft-list"')[1].split("</table>")[0]
    assert drafts.count("/billing/invoices/") == 3 and "PO missing" in drafts


def test_a_second_click_issues_nothing_and_says_so(client, today, django_capture_on_commit_callbacks, settings,
                                                   tmp_path):
    settings.MEDIA_ROOT = tmp_path
    today(ISSUE)
    run = generated_run(drafts=2, held=1)
    login(client, "Billing Specialist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing:run_issue", args=[run.pk]))
    run.refresh_from_db()
    assert (run.status, run.invoices_issued) == ("issued", 2)
    first = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    # the page no longer offers to issue, and a second (stale) click issues nothing and counts nothing
    assert 'data-testid="issue-drafts"' not in first
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(reverse("billing:run_issue", args=[run.pk]), follow=True).content.decode()
    assert "invoice(s) issued" not in second
    assert "nothing to issue. 1 draft(s) are on hold: release them first." in second
    run.refresh_from_db()
    assert run.invoices_issued == 2


def test_the_exception_summary_matches_the_table(client):
    run = generated_run(drafts=1, held=0, exceptions=2)
    BillingException.objects.create(run=run, code="already_invoiced", severity="skip", message="Billed before")
    BillingRun.objects.filter(pk=run.pk).update(exceptions_count=2)
    login(client, "Billing Specialist")
    body = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    assert "2 need attention · 1 for information" in body
    assert "(2 need attention, 1 for information; 3 in all)" in body
