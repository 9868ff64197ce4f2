"""Webhooks from the outbox: subscriptions, signed bodies carrying the object as the API shows
it, retries with backoff over 24 hours ordered per object, the delivery log, replay, disabling
after repeated failure (with an e-mail), secret rotation, and who may do what.

Deliveries go to a real HTTP server on 127.0.0.1 (tests/otc/receiver.py): never the network."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from billing.services import invoices_record_payments
from billing.services.events import invoices_emit_overdue
from customers.services import customer_create, customer_update
from otc import tasks
from otc.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from otc.webhooks import delivery as delivery_module
from otc.webhooks import services as webhook_services
from otc.webhooks import signing
from otc.webhooks.services import webhook_subscription_create
from tests.factories.billing import de_entity, issued
from tests.factories.customers import CustomerFactory, customer_data
from tests.factories.otc import admin_user, integration_client, user_with_role

pytestmark = pytest.mark.django_db
SUBS, DELIVERIES = "/api/v1/webhooks/subscriptions/", "/api/v1/webhooks/deliveries/"
T0 = dt.datetime(2026, 4, 15, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """The webhook modules' "now", movable: clock.at = T0 + ...; events are stamped by the database."""

    class Clock:
        at = T0

        def now(self):
            return self.at

    c = Clock()
    monkeypatch.setattr(delivery_module, "now", c.now)
    monkeypatch.setattr(webhook_services, "now", c.now)
    return c


def token_api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def crm():
    client, token = integration_client(scopes=["customers:read", "customers:write", "invoices:read",
                                               "webhooks:manage"], name="CRM")
    return client, token


def subscribe(crm, url: str, event_types: list[str]) -> tuple[WebhookSubscription, str]:
    client, _ = crm
    subscription, secret = webhook_subscription_create(client_id=client.pk, url=url, event_types=event_types,
                                                       by=client.created_by)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(created_at=T0 - dt.timedelta(days=1))
    return subscription, secret


def dispatch() -> dict:
    return tasks.webhooks_dispatch()


# --- signing -------------------------------------------------------------------------------

def test_signature_header_verifies_with_each_valid_secret_and_not_after_tampering():
    body = b'{"id":"evt_1"}'
    header = signing.signature_header(["whsec_new", "whsec_old"], body, timestamp=1_700_000_000)

    assert header.startswith("t=1700000000,v1=") and header.count("v1=") == 2
    assert signing.verify(header, body, "whsec_new", now=1_700_000_010)
    assert signing.verify(header, body, "whsec_old", now=1_700_000_010)
    assert not signing.verify(header, body, "whsec_other", now=1_700_000_010)
    assert not signing.verify(header, body + b" ", "whsec_new", now=1_700_000_010)
    assert not signing.verify(header, body, "whsec_new", now=1_700_000_000 + 301)  # too old: a replayed capture


# --- subscribing through the API -------------------------------------------------------------

def test_client_subscribes_itself_and_gets_the_secret_once(crm):
    _, token = crm
    api = token_api(token)

    created = api.post(SUBS, {"url": "https://crm.example/hooks", "event_types": ["customer.*", "invoice.paid"]},
                       format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["client"] == "CRM" and body["is_active"] is True
    assert body["event_types"] == ["customer.*", "invoice.paid"]
    listed = api.get(SUBS).json()["results"]
    assert [s["id"] for s in listed] == [body["id"]] and "secret" not in listed[0]
    types = {t["type"]: t["scope"] for t in api.get("/api/v1/webhooks/event-types/").json()}
    assert types["invoice.overdue"] == "invoices:read" and types["contract.approved"] == "contracts:read"
    assert {"customer.created", "credit_note.issued", "receipt.applied", "invoice.voided"} <= set(types)


def test_event_types_need_the_scopes_of_their_objects_and_refusals_write_nothing(crm):
    _, token = crm
    api = token_api(token)

    lacking = api.post(SUBS, {"url": "https://crm.example/h", "event_types": ["receipt.applied"]}, format="json")
    unknown = api.post(SUBS, {"url": "https://crm.example/h", "event_types": ["invoice.exploded"]}, format="json")

    assert lacking.status_code == 400 and "receipts:read" in lacking.json()["message"]
    assert unknown.status_code == 400 and lacking.json()["error"] == "validation_error"
    assert "invoice.exploded" in unknown.json()["message"]
    assert WebhookSubscription.objects.count() == 0


def test_without_the_scope_a_client_cannot_touch_webhooks():
    _, token = integration_client(scopes=["customers:read"], name="Reader")

    response = token_api(token).get(SUBS)

    assert response.status_code == 403 and "webhooks:manage" in response.json()["message"]


def test_https_is_required_where_configured(crm, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    response = token_api(crm[1]).post(SUBS, {"url": "http://crm.example/h", "event_types": ["customer.created"]},
                                      format="json")
    assert response.status_code == 400 and response.json()["fields"] == {"url": ["https required"]}


# --- delivery --------------------------------------------------------------------------------

def test_event_is_delivered_signed_with_the_object_as_the_api_shows_it(crm, receiver, clock):
    _, token = crm
    subscription, secret = subscribe(crm, receiver.url, ["customer.created"])
    billing = user_with_role("Billing Specialist")
    customer = customer_create(data=customer_data(legal_name="Acme Webhooks GmbH"), by=billing)

    result = dispatch()

    assert result == {"events": 1, "sent": 1, "failed": 0}
    [request] = receiver.requests
    raw, headers = request["raw"], request["headers"]
    assert signing.verify(headers["OTC-Signature"], raw, secret)
    body = json.loads(raw)
    event = OutboxEvent.objects.get(topic="customer.created")
    assert body["id"] == f"evt_{event.pk}" == headers["OTC-Event-Id"]
    assert body["type"] == "customer.created" == headers["OTC-Event-Type"]
    assert body["subject"] == {"type": "customer", "id": customer.pk}
    assert body["data"]["account_number"] == customer.account_number
    assert body["object"] == token_api(token).get(f"/api/v1/customers/{customer.pk}/").json()
    assert body["object"]["legal_name"] == "Acme Webhooks GmbH"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
    [attempt] = delivery.attempt_log.all()
    assert attempt.succeeded and attempt.response_excerpt == '{"received": true}' and attempt.response_ms >= 0
    assert OutboxEvent.objects.get(pk=event.pk).delivered_at is not None
    assert dispatch() == {"events": 0, "sent": 0, "failed": 0}  # at most once per run; nothing left


def test_only_subscribed_types_and_only_events_after_the_subscription(crm, receiver, clock):
    billing = user_with_role("Billing Specialist")
    before = customer_create(data=customer_data(legal_name="Before"), by=billing)
    dispatch()  # the backlog is dispatched to nobody
    subscription, _ = subscribe(crm, receiver.url, ["customer.updated"])
    WebhookSubscription.objects.filter(pk=subscription.pk).update(created_at=dt.datetime.now(dt.UTC))
    customer_create(data=customer_data(legal_name="Created later"), by=billing)
    customer_update(customer_id=before.pk, data={"legal_name": "Before, renamed"}, by=billing)

    dispatch()

    assert [b["type"] for b in receiver.bodies()] == ["customer.updated"]
    assert receiver.bodies()[0]["object"]["legal_name"] == "Before, renamed"

    # The backlog can be asked for: past events of the subscribed types since a date-time.
    queued = token_api(crm[1]).post(f"{SUBS}{subscription.pk}/replay-events/",
                                    {"since": "2000-01-01T00:00:00Z"}, format="json")
    assert queued.status_code == 202 and queued.json() == {"queued": 0}  # the one update is already there


def test_failures_retry_with_exponential_backoff_then_succeed(crm, receiver, clock):
    subscribe(crm, receiver.url, ["customer.created"])
    receiver.statuses.extend([500, 503])
    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))

    assert dispatch()["failed"] == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("pending", 1, T0 + dt.timedelta(minutes=1))
    assert dispatch()["sent"] + dispatch()["failed"] == 0  # not due yet

    clock.at = T0 + dt.timedelta(minutes=1)
    assert dispatch()["failed"] == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == clock.at + dt.timedelta(minutes=2)

    clock.at += dt.timedelta(minutes=2)
    assert dispatch()["sent"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert [a.response_status for a in delivery.attempt_log.order_by("at")] == [500, 503, 200]
    assert len({r["raw"] for r in receiver.requests}) == 1  # the same body (and event id) each time
    assert WebhookSubscription.objects.get().consecutive_failures == 0


def test_backoff_doubles_and_is_capped():
    assert [delivery_module.backoff(n).total_seconds() for n in (1, 2, 3, 9, 10, 20)] == [
        60, 120, 240, 4 * 3600, 4 * 3600, 4 * 3600]


def test_events_about_one_object_are_delivered_in_order(crm, receiver, clock):
    subscribe(crm, receiver.url, ["customer.*"])
    billing = user_with_role("Billing Specialist")
    first = customer_create(data=customer_data(legal_name="One"), by=billing)
    customer_update(customer_id=first.pk, data={"legal_name": "One, renamed"}, by=billing)
    other = customer_create(data=customer_data(legal_name="Two"), by=billing)
    receiver.statuses.append(500)  # the first event about `first` fails

    dispatch()

    # `first`'s update waits behind its failed creation; `other` is not held up.
    assert [(b["type"], b["subject"]["id"]) for b in receiver.bodies()] == [
        ("customer.created", first.pk), ("customer.created", other.pk)]
    clock.at = T0 + dt.timedelta(minutes=1)
    dispatch()
    assert [(b["type"], b["subject"]["id"]) for b in receiver.bodies()[2:]] == [
        ("customer.created", first.pk), ("customer.updated", first.pk)]


def test_gives_up_after_24_hours_disables_and_mails_the_owner(crm, receiver, clock,
                                                               django_capture_on_commit_callbacks):
    subscription, _ = subscribe(crm, receiver.url, ["customer.created"])
    owner = subscription.owner
    receiver.statuses.extend([500] * 100)
    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))

    dispatch()
    runs = 1
    while WebhookDelivery.objects.get().status == "pending" and runs < 50:
        clock.at = WebhookDelivery.objects.get().next_attempt_at
        with django_capture_on_commit_callbacks(execute=True):
            dispatch()
        runs += 1

    delivery = WebhookDelivery.objects.get()
    subscription.refresh_from_db()
    assert delivery.status == "failed" and 10 <= delivery.attempts <= 16
    assert delivery.last_attempt_at - T0 <= dt.timedelta(hours=24)
    assert not subscription.is_active and "could not be delivered for 24 hours" in subscription.disabled_reason
    [message] = mail.outbox
    assert message.to == [owner.email] and "disabled" in message.subject
    assert f"/settings/webhooks/{subscription.pk}/" in message.body

    # Disabled: new events queue but are not sent; enabling resumes them.
    sent_before = len(receiver.requests)
    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))
    dispatch()
    assert len(receiver.requests) == sent_before
    receiver.statuses.clear()
    enabled = token_api(crm[1]).post(f"{SUBS}{subscription.pk}/enable/")
    assert enabled.status_code == 200 and enabled.json()["is_active"] is True
    dispatch()
    assert len(receiver.requests) == sent_before + 1


def test_replay_sends_the_same_event_again(crm, receiver, clock, django_capture_on_commit_callbacks):
    subscribe(crm, receiver.url, ["customer.created"])
    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))
    dispatch()
    delivery = WebhookDelivery.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        replayed = token_api(crm[1]).post(f"{DELIVERIES}{delivery.pk}/replay/")

    assert replayed.status_code == 202, replayed.json()
    assert len(receiver.requests) == 2 and receiver.requests[0]["raw"] == receiver.requests[1]["raw"]
    detail = token_api(crm[1]).get(f"{DELIVERIES}{delivery.pk}/").json()
    assert detail["status"] == "succeeded" and detail["attempts"] == 2
    assert [a["replay"] for a in detail["attempts_log"]] == [True, False]


def test_rotation_signs_with_both_secrets_during_the_overlap_only(crm, receiver, clock):
    subscription, old = subscribe(crm, receiver.url, ["customer.created"])
    rotated = token_api(crm[1]).post(f"{SUBS}{subscription.pk}/rotate-secret/", {"overlap_hours": 2}, format="json")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != old and rotated.json()["previous_secret_valid_until"] is not None

    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))
    dispatch()
    first = receiver.requests[-1]
    assert signing.verify(first["headers"]["OTC-Signature"], first["raw"], new)
    assert signing.verify(first["headers"]["OTC-Signature"], first["raw"], old)

    clock.at = T0 + dt.timedelta(hours=3)
    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))
    dispatch()
    later = receiver.requests[-1]
    assert signing.verify(later["headers"]["OTC-Signature"], later["raw"], new)
    assert not signing.verify(later["headers"]["OTC-Signature"], later["raw"], old)


def test_unreachable_receiver_is_a_logged_failure(crm, clock):
    subscribe(crm, "http://127.0.0.1:9/nothing-listens-here", ["customer.created"])
    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))

    dispatch()

    attempt = WebhookAttempt.objects.get()
    assert not attempt.succeeded and attempt.response_status is None and "ConnectionError" in attempt.error


def test_private_addresses_are_refused_where_configured(crm, receiver, clock, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    subscribe(crm, receiver.url, ["customer.created"])
    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))

    dispatch()

    attempt = WebhookAttempt.objects.get()
    assert receiver.requests == [] and not attempt.succeeded
    assert "PrivateAddress" in attempt.error and "127.0.0.1" in attempt.error


# --- invoice events ------------------------------------------------------------------------------

def test_invoice_paid_and_overdue_events(crm, receiver, clock, today):
    today(dt.date(2026, 4, 15))
    entity = de_entity()
    lines = [{"description": "Subscription", "quantity": Decimal("1"), "unit_price": Decimal("100.00"),
              "tax_category": "digital"}]
    paid, late = issued(entity, lines=lines), issued(entity, lines=lines)
    subscribe(crm, receiver.url, ["invoice.paid", "invoice.overdue"])

    invoices_record_payments(changes={paid.pk: Decimal("60.00")}, by=None)
    invoices_record_payments(changes={paid.pk: paid.gross_total - Decimal("60.00")}, by=None)
    assert invoices_emit_overdue(on=late.due_date) == 0
    assert invoices_emit_overdue(on=late.due_date + dt.timedelta(days=1)) == 1  # `late` only: `paid` is paid
    assert invoices_emit_overdue(on=late.due_date + dt.timedelta(days=2)) == 0  # once per invoice
    dispatch()

    got = [(b["type"], b["subject"]["id"], b["object"]["payment_status"]) for b in receiver.bodies()]
    assert got == [("invoice.paid", paid.pk, "paid"), ("invoice.overdue", late.pk, "unpaid")]
    assert receiver.bodies()[1]["data"]["days_overdue"] == 1


# --- who may -----------------------------------------------------------------------------------

def test_clients_see_only_their_own_and_people_by_role(crm, receiver, clock):
    subscription, _ = subscribe(crm, receiver.url, ["customer.created"])
    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))
    dispatch()
    delivery = WebhookDelivery.objects.get()
    _, other_token = integration_client(scopes=["webhooks:manage", "customers:read"], name="Other")
    other = token_api(other_token)

    assert other.get(SUBS).json()["results"] == []
    assert other.get(f"{SUBS}{subscription.pk}/").status_code == 404
    assert other.post(f"{DELIVERIES}{delivery.pk}/replay/").status_code == 404
    assert other.post(f"{SUBS}{subscription.pk}/rotate-secret/", {}, format="json").status_code == 404

    auditor = APIClient()
    auditor.force_authenticate(user_with_role("Auditor"))
    assert [s["id"] for s in auditor.get(SUBS).json()["results"]] == [subscription.pk]
    refused = auditor.post(f"{DELIVERIES}{delivery.pk}/replay/")
    assert refused.status_code == 403 and refused.json()["error"] == "permission_denied"

    rep = APIClient()
    rep.force_authenticate(user_with_role("Sales Rep"))
    assert rep.get(SUBS).json()["results"] == [] and rep.get(DELIVERIES).json()["results"] == []
    assert len(receiver.requests) == 1  # nothing was replayed by the refused callers


def test_fan_out_query_count_does_not_grow_with_events(crm, clock):
    subscribe(crm, "https://crm.example/h", ["customer.created"])
    for _ in range(3):
        CustomerFactory()
    OutboxEvent.objects.bulk_create([OutboxEvent(topic="customer.created", subject_type="customer", subject_id=i)
                                     for i in range(1, 4)])
    with CaptureQueriesContext(connection) as three:
        delivery_module.fan_out()
    OutboxEvent.objects.bulk_create([OutboxEvent(topic="customer.created", subject_type="customer", subject_id=i)
                                     for i in range(1, 40)])
    with CaptureQueriesContext(connection) as many:
        delivery_module.fan_out()
    assert len(many) == len(three)
    assert WebhookDelivery.objects.count() == 42


def test_admin_creates_a_subscription_for_a_client(crm):
    client, _ = crm
    admin = APIClient()
    admin.force_authenticate(admin_user(username="root", email="root@otc.example"))

    created = admin.post(SUBS, {"client_id": client.pk, "url": "https://crm.example/h",
                                "event_types": ["invoice.issued"]}, format="json")

    assert created.status_code == 201 and created.json()["owner"] == "root@otc.example"  # people by e-mail


# --- the page for administrators and client owners ----------------------------------------------

def test_admin_page_subscribes_shows_the_secret_once_and_replays(crm, receiver, clock, client,
                                                                 django_capture_on_commit_callbacks):
    api_client_row, _ = crm
    admin = api_client_row.created_by
    client.force_login(admin)

    page = client.get("/settings/webhooks/")
    assert page.status_code == 200 and b"Subscribe a client" in page.content
    response = client.post("/settings/webhooks/", {"client": api_client_row.pk, "url": receiver.url,
                                                   "event_types": ["customer.created"], "description": "CRM"})
    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/settings/webhooks/{subscription.pk}/"
    first = client.get(response["Location"]).content.decode()
    assert subscription.secret in first
    assert subscription.secret not in client.get(response["Location"]).content.decode()  # shown once

    WebhookSubscription.objects.filter(pk=subscription.pk).update(created_at=T0 - dt.timedelta(days=1))
    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))
    dispatch()
    delivery = WebhookDelivery.objects.get()
    detail = client.get(f"/settings/webhooks/{subscription.pk}/").content.decode()
    assert delivery.event_ref in detail and "delivered" in detail
    with django_capture_on_commit_callbacks(execute=True):
        replay = client.post(f"/settings/webhooks/{subscription.pk}/deliveries/{delivery.pk}/replay/")
    assert replay.status_code == 302 and len(receiver.requests) == 2


def test_page_refuses_sales_reps_and_lets_auditors_read_only(crm, receiver, clock, client):
    subscription, _ = subscribe(crm, receiver.url, ["customer.created"])
    customer_create(data=customer_data(), by=user_with_role("Billing Specialist"))
    dispatch()
    delivery = WebhookDelivery.objects.get()

    client.force_login(user_with_role("Sales Rep"))
    assert client.get("/settings/webhooks/").status_code == 403
    assert client.get(f"/settings/webhooks/{subscription.pk}/").status_code == 404

    client.force_login(user_with_role("Auditor"))
    assert client.get("/settings/webhooks/").status_code == 200
    detail = client.get(f"/settings/webhooks/{subscription.pk}/").content.decode()
    assert "Rotate secret" not in detail and "Replay" not in detail
    assert client.post(f"/settings/webhooks/{subscription.pk}/deliveries/{delivery.pk}/replay/").status_code == 403
    assert client.post(f"/settings/webhooks/{subscription.pk}/rotate/").status_code == 403
    subscription.refresh_from_db()
    assert subscription.previous_secret == "" and len(receiver.requests) == 1
