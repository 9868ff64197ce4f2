"""The demo CRM's API client and its webhook subscription.

The subscription points at the reference CRM client's listener (docs/crm_client.py, default
http://127.0.0.1:8765/otc-webhooks) and has the last week's events queued, so running that
listener and `manage.py webhooks_dispatch` (or a Celery worker with beat) shows deliveries,
retries and the delivery log at /settings/webhooks/."""

from __future__ import annotations

import datetime as dt

from otc.dates import now
from otc.models import ApiClient, User
from otc.services import api_client_create
from otc.webhooks.services import webhook_events_replay, webhook_subscription_create

DEMO_WEBHOOK_URL = "http://127.0.0.1:8765/otc-webhooks"
SCOPES = ["customers:read", "customers:write", "contracts:read", "contracts:write", "invoices:read",
          "credit_notes:read", "receipts:read", "webhooks:manage"]


def seed_webhooks(*, admin: User) -> dict[str, object]:
    if ApiClient.objects.filter(name="CRM (demo)").exists():
        return {"token": None, "queued": 0}
    client, token = api_client_create(name="CRM (demo)", scopes=SCOPES, by=admin)
    subscription, secret = webhook_subscription_create(
        client_id=client.pk, url=DEMO_WEBHOOK_URL, by=admin, description="The reference CRM client's listener",
        event_types=["customer.*", "contract.*", "invoice.*", "credit_note.issued", "receipt.applied"])
    queued = webhook_events_replay(subscription_id=subscription.pk, by=admin, since=now() - dt.timedelta(days=7))
    return {"token": token, "secret": secret, "queued": queued, "subscription": subscription.pk}
