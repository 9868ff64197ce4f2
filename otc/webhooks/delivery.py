"""Fan outbox events out to subscriptions, and send them: signed, retried with exponential
backoff for 24 hours, ordered per object (a later event about an object waits until the
earlier one is delivered or given up), at least once (receivers deduplicate on the event id).

Nothing here holds a database transaction open during an HTTP call: a delivery is claimed with
a short lease (`locked_until`), sent, then its outcome recorded."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import NoReverseMatch, resolve, reverse
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.utils.encoders import JSONEncoder

from otc.dates import now
from otc.history import history_stamp
from otc.models import ApiClient, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from otc.registry import registry

from . import signing
from .services import retry_window, signing_secrets, subscribed

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
TIMEOUT = (5, 10)  # connect, read (seconds)
EXCERPT = 500
USER_AGENT = "otc-webhooks/1"


def backoff(attempts: int) -> dt.timedelta:
    """Delay before the next try after `attempts` failures: 1, 2, 4 ... minutes, at most 4 hours."""
    base = getattr(settings, "WEBHOOK_BACKOFF_SECONDS", 60)
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 4 * 3600))


# --- fan-out ---------------------------------------------------------------------------------

def fan_out(*, limit: int = 1000) -> int:
    """Turn undispatched outbox events into deliveries for every subscription that wants them
    (subscriptions receive events recorded after they were created). Marks the events
    dispatched. Idempotent: the (subscription, event) pair is unique. Returns events handled."""
    with transaction.atomic():
        pending = OutboxEvent.objects.filter(delivered_at__isnull=True).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        events = list(pending.values_list("id", "topic", "subject_type", "subject_id", "created_at")[:limit])
        if not events:
            return 0
        subscriptions = list(WebhookSubscription.objects.all())
        stamp = now()
        rows = [
            WebhookDelivery(subscription=sub, event_id=eid, topic=topic, subject_key=f"{stype}:{sid}",
                            next_attempt_at=stamp, give_up_at=stamp + retry_window())
            for eid, topic, stype, sid, created in events
            for sub in subscriptions
            if created >= sub.created_at and subscribed(sub, topic)
        ]
        WebhookDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        OutboxEvent.objects.filter(pk__in=[e[0] for e in events]).update(delivered_at=stamp)
    return len(events)


# --- due deliveries --------------------------------------------------------------------------

def due_ids(*, limit: int) -> list[int]:
    """Deliveries to send now: pending, due, not leased, active subscription, and no earlier
    pending delivery about the same object for the same subscription."""
    stamp = now()
    earlier = WebhookDelivery.objects.filter(
        subscription=OuterRef("subscription"), subject_key=OuterRef("subject_key"),
        event_id__lt=OuterRef("event_id"), status=WebhookDelivery.Status.PENDING,
    )
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=stamp,
                                       subscription__is_active=True)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=stamp))
        .exclude(Exists(earlier))
        .order_by("event_id", "id").values_list("id", flat=True)[:limit]
    )


def deliver_due(*, limit: int = 200, rounds: int = 20) -> dict[str, int]:
    """Send what is due, round after round (a round sends the next event of each object)."""
    totals = {"sent": 0, "failed": 0}
    for _ in range(rounds):
        ids = due_ids(limit=limit)
        if not ids:
            break
        for delivery_id in ids:
            outcome = deliver(delivery_id=delivery_id)
            if outcome is not None:
                totals["sent" if outcome else "failed"] += 1
        if totals["sent"] + totals["failed"] >= limit:
            break
    return totals


def _claim(delivery_id: int) -> bool:
    stamp = now()
    return bool(WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lt=stamp)).update(locked_until=stamp + LEASE))


# --- the body --------------------------------------------------------------------------------

def render_object(subject_type: str, subject_id: int, client: ApiClient) -> Any:
    """The object as the API detail endpoint shows it to this client (its scopes and
    visibility apply); None when the subject type has no endpoint or the client may not see it."""
    subject = registry.webhook_subjects.get(subject_type)
    if subject is None:
        return None
    try:
        path = reverse(subject.detail_url_name, kwargs={"pk": subject_id})
    except NoReverseMatch:
        return None
    base = urlsplit(settings.OTC_BASE_URL)
    request = APIRequestFactory().get(path, HTTP_HOST=base.netloc or "localhost", secure=base.scheme == "https")
    request.otc_internal = True  # not counted against the client's API rate
    force_authenticate(request, user=client.user, token=client)
    match = resolve(path)
    response = match.func(request, *match.args, **match.kwargs)
    if response.status_code != 200:
        return None
    return json.loads(json.dumps(response.data, cls=JSONEncoder))


def build_body(delivery: WebhookDelivery) -> str:
    event = delivery.event
    body = {
        "id": f"evt_{event.pk}",
        "type": event.topic,
        "created_at": event.created_at.isoformat(),
        "subject": {"type": event.subject_type, "id": event.subject_id},
        "data": event.payload,
        "object": render_object(event.subject_type, event.subject_id, delivery.subscription.client),
    }
    return json.dumps(body, cls=JSONEncoder, separators=(",", ":"), sort_keys=True)


# --- sending ---------------------------------------------------------------------------------

class PrivateAddress(Exception):
    """The URL's host is (or resolves to) a loopback, private, link-local or reserved address."""


def _refuse_private_address(url: str) -> None:
    """Unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES (development, tests), refuse to POST into the
    internal network (a subscriber must not use otc to probe it and read the answers in the
    delivery log). Checked at send time, so a DNS change after subscribing does not get around it."""
    if getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", True):
        return
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        raise PrivateAddress(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise PrivateAddress(f"{parts.hostname} resolves to a non-public address ({address})")

def deliver(*, delivery_id: int, replay: bool = False) -> bool | None:
    """Send one delivery if it can be claimed. True delivered, False failed (retry scheduled or
    given up), None not sent (already done, leased elsewhere, or subscription disabled)."""
    if not _claim(delivery_id):
        return None
    delivery = WebhookDelivery.objects.select_related("event", "subscription__client__user").get(pk=delivery_id)
    subscription = delivery.subscription
    if not subscription.is_active:
        WebhookDelivery.objects.filter(pk=delivery_id).update(locked_until=None)
        return None
    if not delivery.body:
        delivery.body = build_body(delivery)
        WebhookDelivery.objects.filter(pk=delivery_id).update(body=delivery.body)
    raw = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "OTC-Event-Id": delivery.event_ref,
        "OTC-Event-Type": delivery.topic,
        "OTC-Delivery-Id": str(delivery.pk),
        signing.HEADER: signing.signature_header(signing_secrets(subscription), raw),
    }
    started, status, excerpt, error = time.monotonic(), None, "", ""
    try:
        _refuse_private_address(subscription.url)
        response = requests.post(subscription.url, data=raw, headers=headers, timeout=TIMEOUT, allow_redirects=False)
        status, excerpt = response.status_code, response.text[:EXCERPT]
    except (requests.RequestException, PrivateAddress) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    elapsed_ms = int((time.monotonic() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    _record(delivery, ok=ok, status=status, elapsed_ms=elapsed_ms, excerpt=excerpt, error=error, replay=replay)
    return ok


@transaction.atomic
def _record(delivery: WebhookDelivery, *, ok: bool, status: int | None, elapsed_ms: int, excerpt: str, error: str,
            replay: bool) -> None:
    stamp = now()
    WebhookAttempt.objects.create(delivery=delivery, at=stamp, response_status=status, response_ms=elapsed_ms,
                                  response_excerpt=excerpt, error=error or ("" if ok else f"HTTP {status}"),
                                  succeeded=ok, replay=replay)
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "last_attempt_at": stamp, "response_status": status, "response_ms": elapsed_ms,
              "locked_until": None}
    subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
    if ok:
        fields.update(status=WebhookDelivery.Status.SUCCEEDED, delivered_at=stamp)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        if subscription.consecutive_failures:
            WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        return
    next_at = stamp + backoff(attempts)
    if next_at > delivery.give_up_at:
        fields.update(status=WebhookDelivery.Status.FAILED)
    else:
        fields.update(next_attempt_at=next_at)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    if fields.get("status") == WebhookDelivery.Status.FAILED and subscription.is_active:
        _disable(subscription, delivery=delivery, stamp=stamp)


def _disable(subscription: WebhookSubscription, *, delivery: WebhookDelivery, stamp: dt.datetime) -> None:
    reason = (f"Event {delivery.event_ref} ({delivery.topic}) could not be delivered for "
              f"{int(retry_window().total_seconds() // 3600)} hours; last answer: "
              f"{delivery.response_status or 'no response'}.")
    subscription.is_active, subscription.disabled_at, subscription.disabled_reason = False, stamp, reason[:300]
    history_stamp(subscription, reason="disabled after repeated failure")
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    recipient = subscription.owner or subscription.client.created_by
    if recipient is not None and recipient.email:
        link = f"{settings.OTC_BASE_URL.rstrip('/')}/settings/webhooks/{subscription.pk}/"
        transaction.on_commit(lambda: send_mail(
            subject=f"Webhook disabled: {subscription.client} -> {subscription.url}",
            message=(f"Hello {recipient},\n\nThe webhook subscription of {subscription.client} to {subscription.url} "
                     f"was disabled after repeated failures.\n{reason}\n\nPending events are kept. Fix the "
                     f"receiver, then enable the subscription again and replay what failed:\n{link}\n"),
            from_email=None, recipient_list=[recipient.email], fail_silently=True,
        ))
    log.warning("webhook subscription %s disabled: %s", subscription.pk, reason)
