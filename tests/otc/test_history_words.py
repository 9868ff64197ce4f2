"""History panels say what changed in words, money formatted (issue 16)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import Invoice
from ledger.models import OpenItem
from otc.history import field_changes


def test_a_snapshot_taken_is_summarised_and_a_changed_key_named_in_words():
    field = Invoice._meta.get_field("bill_to")
    snapshot = {"legal_name": "Acme Inc.", "account_number": "C100001", "city": "Austin", "region": "TX",
                "postal_code": "78701", "country": "US"}
    assert field_changes(field, None, snapshot) == [
        ("bill to", "", "recorded (6 fields: legal name, account number, city, region…)")]
    moved = {**snapshot, "city": "Dallas", "postal_code": "75201"}
    assert field_changes(field, snapshot, moved) == [
        ("bill to: city", "Austin", "Dallas"), ("bill to: postal code", "78701", "75201")]


def test_amounts_read_as_money_not_storage_padding():
    assert str(OpenItem(document_number="US-INV-2026-000077", open_amount=Decimal("10200.0000"), currency="USD")) == (
        "US-INV-2026-000077 (10,200.00 USD open)")
    field = Invoice._meta.get_field("gross_total")
    assert field_changes(field, Decimal("50000.0000"), Decimal("10200.5000")) == [("gross total", "50,000.00", "10,200.50")]


pytestmark = pytest.mark.django_db
