"""Five bank-feed POSTs of one receipt at once (PostgreSQL, separate connections): one is
recorded, the other four answer 409 naming it, whatever their Idempotency-Keys (issue 15)."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ledger.models import JournalEntry
from receivables.models import Receipt
from receivables.services import bank_account_create
from tests.factories.billing import de_entity
from tests.factories.otc import integration_client, user_with_role

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("keys", [[None] * 5, ["k1", "k2", "k3", "k4", "k5"]])
def test_concurrent_posts_with_one_bank_reference_record_one_receipt(keys):
    entity = de_entity()
    account = bank_account_create(legal_entity_id=entity.pk, name="Operating", account_number="DE1", currency="EUR",
                                  by=user_with_role("Controller"))
    _, token = integration_client(scopes=["receipts:read", "receipts:write"], name="Bank feed")
    body = json.dumps({"bank_account": account.pk, "value_date": "2026-04-20", "amount": "10.00",
                       "bank_reference": "SAME-REF"})
    barrier = threading.Barrier(len(keys))
    answers: list[tuple[int, dict]] = []

    def post(key) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
            barrier.wait(timeout=30)
            response = client.post("/api/v1/receipts/", data=body, content_type="application/json", **extra)
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    receipt = Receipt.objects.get()
    assert sorted(status for status, _ in answers) == [201, 409, 409, 409, 409]
    for status, answer in answers:
        if status == 409:
            assert answer["error"] == "conflict" and answer["fields"]["receipt"] == [str(receipt.pk)]
            assert receipt.number in answer["message"]
    assert JournalEntry.objects.filter(kind="receipt").count() == 1
