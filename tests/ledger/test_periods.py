"""Closed periods: manual journals refused, documents rolled forward; who may close and reopen."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from ledger.models import JournalEntry, Period
from ledger.services import LineSpec, journal_post_manual, period_close, period_for_posting, period_reopen
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
