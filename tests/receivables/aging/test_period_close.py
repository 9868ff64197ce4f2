"""Closing a period checks every subledger (AR, unapplied cash) against its control account as
of the period end, and refuses to close with a difference, naming it."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger.models import OpenItem, Period
from ledger.services import LineSpec, OpenItemSpec, journal_post, period_close, period_for_posting
from ledger.services.periods import subledger_differences
from otc.errors import DomainError
from otc.models import StatusChange
from otc.roles import CONTROLLER
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory, post_invoice, post_receipt
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def test_a_period_whose_subledgers_tie_closes():
    entity, customer = LegalEntityFactory(), CustomerFactory()
    entry = post_invoice(entity, customer, "1190.00", date=dt.date(2026, 3, 10))
    post_receipt(entry.lines.get(amount__gt=0).open_item, "190.00", date=dt.date(2026, 4, 2))  # after the period end
    journal_post(legal_entity_id=entity.id, kind="receipt", document_date=dt.date(2026, 3, 20), by=None, currency="EUR",
                 lines=[LineSpec(Decimal("50.00"), role="cash"),
                        LineSpec(Decimal("-50.00"), role="unapplied_cash", customer_id=customer.id,
                                 open_item=OpenItemSpec("receipt", "R1", dt.date(2026, 3, 20), dt.date(2026, 3, 20)))])
    assert subledger_differences(legal_entity_id=entity.id, as_of=dt.date(2026, 3, 31)) == []
    period, _ = period_for_posting(legal_entity_id=entity.id, date=dt.date(2026, 3, 1))
    assert period_close(period_id=period.id, by=user_with_role(CONTROLLER)).status == "closed"


def test_a_subledger_that_differs_from_its_control_account_refuses_the_close_and_names_the_difference():
    entity, customer = LegalEntityFactory(), CustomerFactory()
    entry = post_invoice(entity, customer, "1190.00", date=dt.date(2026, 3, 10))
    item = entry.lines.get(amount__gt=0).open_item
    OpenItem.objects.filter(pk=item.pk).update(open_amount=Decimal("1180.00"))  # a subledger that drifted
    period = Period.objects.get(legal_entity=entity, year=2026, month=3)
    with pytest.raises(DomainError) as refused:
        period_close(period_id=period.id, by=user_with_role(CONTROLLER))
    assert refused.value.code == "subledger_difference"
    assert "2026-03 cannot be closed" in refused.value.message
    assert ("1100 Accounts receivable in EUR: control account 1,190.00 EUR, open items 1,180.00 EUR, "
            "difference 10.00 EUR") in refused.value.message
    period.refresh_from_db()
    assert period.status == "open" and period.closed_at is None
    assert not StatusChange.objects.exists()
