"""Issue 16: in the embedded mode (eager Celery, `OTC_EAGER_TASKS_IN_THREAD`, the demo's
default) *Issue drafts* returns at once and the run's drafts are issued in a background thread,
which feeds the same progress bar a worker would. Transactional: the thread has its own database
connection and must see the committed run."""

from __future__ import annotations

import threading

import pytest
from django.urls import reverse

from billing import tasks
from billing.models import Invoice
from billing.views import runs as run_views
from tests.factories.billing import ISSUE
from tests.factories.billing_views import generated_run, login

pytestmark = pytest.mark.django_db(transaction=True)


def test_issue_drafts_runs_in_a_background_thread_and_the_page_shows_its_progress(client, settings, today,
                                                                                    tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.OTC_EAGER_TASKS_IN_THREAD = True
    today(ISSUE)
    run = generated_run()
    login(client, "Billing Specialist")
    ran_in = []
    task = tasks.billing_run_issue_task

    def recording(**kwargs):
        ran_in.append(threading.current_thread().name)
        return task(**kwargs)

    monkeypatch.setattr(run_views, "billing_run_issue_task", recording)

    response = client.post(reverse("billing:run_issue", args=[run.pk]))

    assert response.status_code == 302
    worker = next((t for t in threading.enumerate() if t.name == f"issue-run-{run.pk}"), None)
    if worker is not None:
        worker.join(timeout=120)
        assert not worker.is_alive()
    assert ran_in == [f"issue-run-{run.pk}"], "issued in its own thread, not in the request"
    run.refresh_from_db()
    assert (run.status, run.invoices_issued) == ("issued", 3)
    assert sorted(Invoice.objects.filter(billing_run=run).values_list("status", flat=True)) == [
        "draft", "issued", "issued", "issued"]
    body = client.get(response["Location"]).content.decode()
    assert 'data-testid="issue-progress"' in body and "3 issued · 0 drafts to issue" in body
