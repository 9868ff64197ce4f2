"""The manual-journal page: a Controller posts a balanced adjustment and reverses it; others are
refused; bad input is refused with a message and writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.models import JournalEntry, JournalLine, Period
from tests.factories.ledger import LegalEntityFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def _post(client, entity, lines, **header):
    data = {
        "entity": entity.pk, "document_date": header.get("date", "2026-11-20"), "currency": "",
        "memo": header.get("memo", "Reclass rounding"), "reference": "ADJ-7",
        "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "2", "lines-MAX_NUM_FORMS": "1000",
    }
    for index, (account, debit, credit) in enumerate(lines):
        data.update({f"lines-{index}-account": account, f"lines-{index}-debit": debit,
                     f"lines-{index}-credit": credit, f"lines-{index}-description": "adj"})
    return client.post(reverse("ledger:journal_new"), data)


def test_controller_posts_and_reverses_a_manual_journal(client):
    entity = LegalEntityFactory(code="IE01", functional_currency="EUR")
    client.force_login(user_with_role("Controller"))

    response = _post(client, entity, [("7900", "12.34", ""), ("1000", "", "12.34")])

    entry = JournalEntry.objects.get(kind="manual")
    assert response.status_code == 302 and response.url == reverse("ledger:journal_detail", args=[entry.pk])
    assert sorted(entry.lines.values_list("account__code", "amount")) == [
        ("1000", Decimal("-12.34")), ("7900", Decimal("12.34"))]
    assert entry.memo == "Reclass rounding" and entry.source_reference == "ADJ-7"

    response = client.post(reverse("ledger:journal_reverse", args=[entry.pk]), {"reason": "posted twice"})
    reversal = JournalEntry.objects.get(reverses=entry)
    assert response.status_code == 302
    assert sorted(reversal.lines.values_list("account__code", "amount")) == [
        ("1000", Decimal("12.34")), ("7900", Decimal("-12.34"))]
    assert "posted twice" in reversal.memo


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([("7900", "12.34", ""), ("1000", "", "12.00")], "does not balance"),
        ([("7900", "1,2,3", ""), ("1000", "", "12.34")], "is not an amount"),
        ([("9999", "12.34", ""), ("1000", "", "12.34")], "has no account 9999"),
        ([("1100", "12.34", ""), ("1000", "", "12.34")], "customer subledger"),
        ([("7900", "12.34", "12.34"), ("1000", "", "12.34")], "not both"),
    ],
)
def test_bad_manual_journals_are_refused_and_write_nothing(client, lines, message):
    entity = LegalEntityFactory(code="IE01", functional_currency="EUR")
    client.force_login(user_with_role("Controller"))

    response = _post(client, entity, lines)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not JournalLine.objects.exists()


def test_manual_journal_into_a_closed_period_is_refused(client):
    entity = LegalEntityFactory(code="IE01", functional_currency="EUR")
    Period.objects.filter(legal_entity=entity, year=2026, month=9).update(status="closed")
    client.force_login(user_with_role("Controller"))

    response = _post(client, entity, [("7900", "5.00", ""), ("1000", "", "5.00")], date=str(dt.date(2026, 9, 30)))

    assert "closed" in response.content.decode()
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("role", ["Finance Manager", "Billing Specialist", "Auditor", "Sales Rep"])
def test_only_controllers_post_manual_journals(client, role):
    entity = LegalEntityFactory(code="IE01", functional_currency="EUR")
    client.force_login(user_with_role(role))

    assert client.get(reverse("ledger:journal_new")).status_code == 403
    assert _post(client, entity, [("7900", "5.00", ""), ("1000", "", "5.00")]).status_code == 403
    assert not JournalEntry.objects.exists()
