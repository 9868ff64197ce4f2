"""`ledger_check` and the read-only admin."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from ledger.models import OpenItem
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory, post_invoice
from tests.factories.otc import admin_user

pytestmark = pytest.mark.django_db


def test_ledger_check_passes_on_balanced_books():
    entity = LegalEntityFactory()
    post_invoice(entity, CustomerFactory(), "42.00")
    out = io.StringIO()
    call_command("ledger_check", stdout=out)
    text = out.getvalue()
    assert f"{entity.code} 1100 EUR: ledger 42.00 open items 42.00 (1) difference 0.00" in text
    assert "Ledger in balance." in text


def test_ledger_check_fails_on_a_difference():
    post_invoice(LegalEntityFactory(), CustomerFactory(), "42.00")
    OpenItem.objects.update(open_amount=Decimal("40.00"))  # tampering outside the posting service
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 difference"):
        call_command("ledger_check", stdout=out)
    assert "difference 2.00  <-- DIFFERENCE" in out.getvalue()


def test_admin_journal_is_read_only(client):
    entry = post_invoice(LegalEntityFactory(), CustomerFactory(), "42.00")
    client.force_login(admin_user(username="root"))
    assert client.get(reverse("admin:ledger_journalentry_change", args=[entry.pk])).status_code == 200
    assert client.get(reverse("admin:ledger_journalentry_add")).status_code == 403
    assert client.post(reverse("admin:ledger_journalentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:ledger_legalentity_history", args=[entry.legal_entity_id])).status_code == 200
