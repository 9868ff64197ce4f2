"""Closed periods: manual journals refused, documents rolled forward; who may close and reopen."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from ledger.models import JournalEntry, Period
from ledger.services import (
    LineSpec,
    journal_post_manual,
    period_close,
    period_for_posting,
    period_open,
    period_reopen,
    periods_open_ahead,
)
from ledger.tasks import periods_open_ahead_task
from otc.errors import DomainError, InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import StatusChange
from otc.roles import AUDITOR, BILLING_SPECIALIST, CONTROLLER, FINANCE_MANAGER
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory, post_invoice
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def _closed(entity, year, month):
    period, _ = period_for_posting(legal_entity_id=entity.id, date=dt.date(year, month, 1))
    return period_close(period_id=period.id, by=user_with_role(CONTROLLER))


def test_document_dated_in_a_closed_period_rolls_forward_keeping_its_date():
    entity = LegalEntityFactory()
    _closed(entity, 2026, 2)
    _closed(entity, 2026, 3)
    entry = post_invoice(entity, CustomerFactory(), "100.00", date=dt.date(2026, 2, 27))
    assert entry.document_date == dt.date(2026, 2, 27)
    assert entry.entry_date == dt.date(2026, 4, 1)
    assert entry.period.label == "2026-04"
    assert entry.lines.get(amount__gt=0).open_item.document_date == dt.date(2026, 2, 27)


def test_manual_journal_into_a_closed_period_is_refused():
    entity = LegalEntityFactory()
    _closed(entity, 2026, 2)
    with pytest.raises(DomainError, match="2026-02 is closed"):
        journal_post_manual(legal_entity_id=entity.id, document_date=dt.date(2026, 2, 10), by=user_with_role(CONTROLLER),
                            memo="late", lines=[LineSpec(Decimal("1.00"), role="cash"), LineSpec(Decimal("-1.00"), role="suspense")])
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("role", [FINANCE_MANAGER, BILLING_SPECIALIST, AUDITOR])
def test_only_a_controller_closes_periods(role):
    entity = LegalEntityFactory()
    period, _ = period_for_posting(legal_entity_id=entity.id, date=dt.date(2026, 1, 5))
    with pytest.raises(PermissionDenied):
        period_close(period_id=period.id, by=user_with_role(role))
    period.refresh_from_db()
    assert period.status == "open"
    assert not StatusChange.objects.exists()


def test_close_and_reopen_record_status_changes_with_reason():
    entity, controller = LegalEntityFactory(), user_with_role(CONTROLLER)
    period, _ = period_for_posting(legal_entity_id=entity.id, date=dt.date(2026, 1, 5))
    closed = period_close(period_id=period.id, by=controller)
    assert (closed.status, closed.closed_by) == ("closed", controller)
    with pytest.raises(ValidationFailed, match="written reason"):
        period_reopen(period_id=period.id, by=controller, note="  ")
    with pytest.raises(PermissionDenied):
        period_reopen(period_id=period.id, by=user_with_role(FINANCE_MANAGER), note="please")
    reopened = period_reopen(period_id=period.id, by=controller, note="Late supplier invoice")
    assert (reopened.status, reopened.closed_at, reopened.closed_by) == ("open", None, None)
    changes = StatusChange.objects.filter(content_type=ContentType.objects.get_for_model(Period), object_id=period.id)
    assert [(c.from_state, c.to_state, c.by, c.note) for c in changes] == [
        ("open", "closed", controller, ""), ("closed", "open", controller, "Late supplier invoice"),
    ]
    assert period.history.count() == 3  # created, closed, reopened
    with pytest.raises(InvalidTransition):
        period_reopen(period_id=period.id, by=controller, note="again")


# --- periods are never created by a posting (issue 15) ------------------------------------------------------


def test_a_posting_never_creates_a_period():
    entity = LegalEntityFactory(periods=[(2026, 3), (2026, 4)])
    post_invoice(entity, CustomerFactory(), "10.00", date=dt.date(2026, 3, 10))
    assert sorted(Period.objects.filter(legal_entity=entity).values_list("year", "month")) == [(2026, 3), (2026, 4)]


@pytest.mark.parametrize("date", [dt.date(1, 1, 1), dt.date(1900, 1, 15), dt.date(2024, 12, 31)])
def test_a_date_before_the_first_period_rolls_to_the_first_open_period(date):
    entity = LegalEntityFactory(periods=[(2025, 1), (2025, 2)])
    period_close(period_id=Period.objects.get(legal_entity=entity, year=2025, month=1).pk, by=user_with_role(CONTROLLER))
    entry = post_invoice(entity, CustomerFactory(), "10.00", date=date, due=dt.date(2025, 3, 1))
    assert (entry.period.label, entry.entry_date, entry.document_date) == ("2025-02", dt.date(2025, 2, 1), date)
    assert Period.objects.filter(legal_entity=entity).count() == 2


@pytest.mark.parametrize("date", [dt.date(2026, 5, 1), dt.date(9999, 12, 31)])
def test_a_date_past_the_last_open_period_is_refused_and_nothing_is_written(date):
    entity = LegalEntityFactory(periods=[(2026, 3), (2026, 4)])
    with pytest.raises(DomainError, match="past the open horizon: periods are open up to 2026-04") as caught:
        post_invoice(entity, CustomerFactory(), "10.00", date=date, due=date)
    assert caught.value.code == "period_not_open"
    assert not JournalEntry.objects.exists()
    assert Period.objects.filter(legal_entity=entity).count() == 2


def test_a_manual_journal_before_the_first_period_is_refused():
    entity = LegalEntityFactory(periods=[(2026, 3)])
    with pytest.raises(DomainError, match="no accounting period 2026-02"):
        journal_post_manual(legal_entity_id=entity.id, document_date=dt.date(2026, 2, 10), by=user_with_role(CONTROLLER),
                            memo="early", lines=[LineSpec(Decimal("1.00"), role="cash"), LineSpec(Decimal("-1.00"), role="suspense")])
    assert not JournalEntry.objects.exists()


def test_a_controller_opens_the_next_period_up_to_the_horizon(today, settings):
    settings.LEDGER_OPEN_HORIZON_MONTHS = 2
    today(dt.date(2026, 11, 20))
    entity, controller = LegalEntityFactory(periods=[(2026, 11)]), user_with_role(CONTROLLER)
    assert period_open(legal_entity_id=entity.id, by=controller).label == "2026-12"
    assert period_open(legal_entity_id=entity.id, by=controller).label == "2027-01"
    with pytest.raises(DomainError, match="up to 2027-01 .2 months ahead.; 2027-02 is past the open horizon"):
        period_open(legal_entity_id=entity.id, by=controller)
    assert Period.objects.filter(legal_entity=entity).count() == 3
    assert Period.objects.get(legal_entity=entity, year=2027, month=1).history.get().history_user == controller


@pytest.mark.parametrize("role", [FINANCE_MANAGER, BILLING_SPECIALIST, AUDITOR])
def test_only_a_controller_opens_periods(role):
    entity = LegalEntityFactory(periods=[])
    with pytest.raises(PermissionDenied):
        period_open(legal_entity_id=entity.id, by=user_with_role(role))
    assert not Period.objects.filter(legal_entity=entity).exists()


def test_the_schedule_opens_every_entity_through_the_horizon_once(today, settings):
    settings.LEDGER_OPEN_HORIZON_MONTHS = 3
    today(dt.date(2026, 12, 31))
    fresh, running = LegalEntityFactory(periods=[]), LegalEntityFactory(periods=[(2026, 10)])
    assert periods_open_ahead_task.delay().get() == 4 + 5
    assert periods_open_ahead(by=None) == 0
    labels = lambda e: [p.label for p in Period.objects.filter(legal_entity=e).order_by("year", "month")]  # noqa: E731
    assert labels(fresh) == ["2026-12", "2027-01", "2027-02", "2027-03"]
    assert labels(running) == ["2026-10", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03"]
    today(dt.date(2027, 1, 1))  # the month turns over: the next one opens
    assert periods_open_ahead(by=None) == 2


def test_the_open_next_period_button(client):
    entity, controller = LegalEntityFactory(periods=[(2026, 3)]), user_with_role(CONTROLLER)
    client.force_login(controller)
    response = client.post(reverse("ledger:period_open", args=[entity.pk]))
    assert response.status_code == 302
    assert Period.objects.filter(legal_entity=entity, year=2026, month=4, status="open").exists()
    client.force_login(user_with_role(BILLING_SPECIALIST))
    assert client.post(reverse("ledger:period_open", args=[entity.pk])).status_code == 403
    assert Period.objects.filter(legal_entity=entity).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_close_waits_for_a_posting_in_its_period_and_later_postings_roll_forward():
    import threading

    from django.db import OperationalError, connection, transaction

    from tests.factories.races import race

    entity, customer, controller = LegalEntityFactory(), CustomerFactory(), user_with_role(CONTROLLER)
    march, _ = period_for_posting(legal_entity_id=entity.id, date=dt.date(2026, 3, 10))
    posted, release = threading.Event(), threading.Event()

    def posting():
        with transaction.atomic():
            post_invoice(entity, customer, "10.00", date=dt.date(2026, 3, 10))
            posted.set()
            release.wait(timeout=30)

    def close(lock_timeout: str):
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{lock_timeout}'")
        return period_close(period_id=march.id, by=controller)

    def close_while_posting():
        posted.wait(timeout=30)
        try:
            return close("300ms")  # the posting holds the period: the close must wait, and gives up here
        finally:
            release.set()

    _, failures = race([posting, close_while_posting])
    assert len(failures) == 1 and isinstance(failures[0], OperationalError), failures
    march.refresh_from_db()
    assert march.status == Period.Status.OPEN and JournalEntry.objects.filter(legal_entity=entity).count() == 1

    results, failures = race([lambda: close("10s")])
    assert failures == [] and results[0].status == Period.Status.CLOSED
    entry = post_invoice(entity, customer, "5.00", date=dt.date(2026, 3, 20))
    assert (entry.period.year, entry.period.month, entry.document_date) == (2026, 4, dt.date(2026, 3, 20))
