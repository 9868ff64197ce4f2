"""Queue pages and dashboard panels: who sees what, and query counts that do not grow with rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts import services
from otc import dates
from tests.factories.contracts_views import world_fixture  # noqa: F401
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
REVIEW = reverse("contracts:queue_review")
CHANGES = reverse("contracts:queue_changes")
APPROVED = reverse("contracts:queue_approved")


def test_awaiting_my_review_lists_what_the_reviewer_may_decide(client, world):
    small = world.submitted("1000.00")
    high = world.submitted("1000.00", payment_terms_days=90)
    services.contract_decide(version_id=high.id, by=world.reviewer2, decision="approved")
    draft = world.draft()
    client.force_login(world.reviewer)

    html = client.get(REVIEW).content.decode()

    assert small.contract.number in html
    assert high.contract.number not in html  # level 2 is the manager's
    assert draft.contract.number not in html
    assert "12,000.00 EUR" in html
    client.force_login(world.manager)
    html = client.get(REVIEW).content.decode()
    assert high.contract.number in html and "2 of 2" in html


def test_review_queue_refused_to_sales_reps(client, world):
    client.force_login(world.rep)
    assert client.get(REVIEW).status_code == 403
    client.force_login(user_with_role("Auditor"))
    assert client.get(REVIEW).status_code == 403


def test_changes_requested_for_the_rep_and_not_for_another_rep(client, world):
    version = world.submitted()
    services.contract_decide(version_id=version.id, by=world.reviewer, decision="changes_requested",
                             comment="Ask for Net 30.")
    client.force_login(world.rep)
    assert version.contract.number in client.get(CHANGES).content.decode()
    client.force_login(world.other_rep)
    assert version.contract.number not in client.get(CHANGES).content.decode()
    client.force_login(world.reviewer)
    assert version.contract.number in client.get(CHANGES).content.decode()


def test_approved_this_month(client, world, monkeypatch):
    monkeypatch.setattr(dates, "now", lambda: dt.datetime(2026, 1, 15, 10, 0, tzinfo=dt.UTC))  # within TODAY's month
    approved = world.active()
    pending = world.submitted()
    client.force_login(world.reviewer)

    html = client.get(APPROVED).content.decode()

    assert approved.contract.number in html
    assert pending.contract.number not in html


def test_review_queue_query_count_does_not_grow(client, world):
    client.force_login(world.reviewer)
    for _ in range(3):
        world.submitted()
    with CaptureQueriesContext(connection) as few:
        client.get(REVIEW)
    for _ in range(9):
        world.submitted()
    with CaptureQueriesContext(connection) as many:
        response = client.get(REVIEW)
    assert response.content.decode().count("<tr>") == 12 + 1  # header row + 12 versions
    assert len(many) == len(few)


@pytest.mark.parametrize("url", [CHANGES, APPROVED])
def test_other_queues_query_count_does_not_grow(client, world, url, monkeypatch):
    monkeypatch.setattr(dates, "now", lambda: dt.datetime(2026, 1, 15, 10, 0, tzinfo=dt.UTC))
    def fill(count):
        for _ in range(count):
            version = world.submitted()
            if url == CHANGES:
                services.contract_decide(version_id=version.id, by=world.reviewer2, decision="changes_requested",
                                         comment="Fix the terms.")
            else:
                services.contract_decide(version_id=version.id, by=world.reviewer2, decision="approved")

    client.force_login(world.reviewer)
    fill(3)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    fill(9)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count("<tr>") == 12 + 1
    assert len(many) == len(few)


def test_dashboard_panels_by_role(client, world):
    version = world.submitted()
    client.force_login(world.reviewer)
    html = client.get(reverse("home")).content.decode()
    assert 'data-panel="contracts-review"' in html
    assert version.contract.number in html

    client.force_login(world.rep)
    html = client.get(reverse("home")).content.decode()
    assert 'data-panel="contracts-review"' not in html
    assert 'data-panel="contracts-changes"' in html and 'data-panel="contracts-approved"' in html


def test_dashboard_query_count_does_not_grow(client, world):
    client.force_login(world.reviewer)
    for _ in range(3):
        world.submitted()
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for _ in range(9):
        world.submitted()
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    assert len(many) == len(few)


def test_customer_panel_hides_contracts_the_rep_may_not_see(client, world):
    shared = CustomerFactory(sales_owner=world.rep)
    services.contract_create(data=world.data(customer_id=shared.id), lines=[world.line()], by=world.rep)
    client.force_login(world.other_rep)
    # another rep does not see the customer at all
    assert client.get(shared.get_absolute_url()).status_code == 404
