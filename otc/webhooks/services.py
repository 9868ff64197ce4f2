"""Webhook subscriptions: who may manage them, and the writes (create, change, rotate the
secret, enable, disable, replay). Delivery itself is in `otc.webhooks.delivery`."""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from otc.dates import now
from otc.errors import NotFound, PermissionDenied, ValidationFailed
from otc.history import history_stamp
from otc.models import ApiClient, OutboxEvent, User, WebhookDelivery, WebhookSubscription
from otc.registry import registry

MAX_EVENT_TYPES = 100


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- who may see and manage -------------------------------------------------------------------

def is_webhook_admin(user: User) -> bool:
    """Administrators: superusers, or people whose role grants otc.change_webhooksubscription."""
    return user.is_superuser or (not user.is_integration and user.has_perm("otc.change_webhooksubscription"))


def subscriptions_visible_to(user: User) -> QuerySet[WebhookSubscription]:
    qs = WebhookSubscription.objects.select_related("client", "owner")
    if not user.is_authenticated:
        return qs.none()
    if user.is_integration:
        return qs.filter(client__user=user)
    if user.is_superuser or user.has_perm("otc.view_webhooksubscription"):
        return qs
    return qs.filter(Q(owner=user) | Q(client__created_by=user))


def deliveries_visible_to(user: User) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(subscription__in=subscriptions_visible_to(user).values("pk"))


def may_manage_client(user: User, client: ApiClient) -> bool:
    if user.is_integration:
        return client.user_id == user.pk
    return is_webhook_admin(user) or client.created_by_id == user.pk


def may_manage(user: User, subscription: WebhookSubscription) -> bool:
    return may_manage_client(user, subscription.client) or (
        not user.is_integration and subscription.owner_id == user.pk)


def clients_manageable_by(user: User) -> QuerySet[ApiClient]:
    qs = ApiClient.objects.filter(revoked_at__isnull=True).order_by("name")
    if user.is_integration:
        return qs.filter(user=user)
    return qs if is_webhook_admin(user) else qs.filter(created_by=user)


def _ensure(ok: bool, message: str = "Only an administrator or the client's owner may manage its webhooks.") -> None:
    if not ok:
        raise PermissionDenied(message)


def _locked(subscription_id: int, by: User) -> WebhookSubscription:
    found = subscriptions_visible_to(by).filter(pk=subscription_id).values_list("pk", flat=True).first()
    if found is None:
        raise NotFound("No such webhook subscription.")
    subscription = WebhookSubscription.objects.select_for_update(of=("self",)).select_related("client").get(pk=found)
    _ensure(may_manage(by, subscription))
    return subscription


# --- validation ------------------------------------------------------------------------------

def topic_matches(pattern: str, topic: str) -> bool:
    return pattern == topic or (pattern.endswith(".*") and topic.startswith(pattern[:-1]))


def subscribed(subscription: WebhookSubscription, topic: str) -> bool:
    return topic in registry.webhook_events and any(topic_matches(p, topic) for p in subscription.event_types)


def _clean_event_types(event_types: list[str], client: ApiClient) -> list[str]:
    if not isinstance(event_types, list) or not event_types:
        raise ValidationFailed("Name at least one event type.", fields={"event_types": ["required"]})
    if len(event_types) > MAX_EVENT_TYPES:
        raise ValidationFailed("Too many event types.", fields={"event_types": ["too many"]})
    errors, subject_types = [], set()
    for pattern in event_types:
        pattern = str(pattern)
        if pattern.endswith(".*"):
            subject_type = pattern[:-2]
            if subject_type not in {e.subject_type for e in registry.webhook_events.values()}:
                errors.append(f"Unknown event family {pattern!r}.")
            subject_types.add(subject_type)
        elif pattern in registry.webhook_events:
            subject_types.add(registry.webhook_events[pattern].subject_type)
        else:
            errors.append(f"Unknown event type {pattern!r}.")
    for subject_type in sorted(subject_types):
        subject = registry.webhook_subjects.get(subject_type)
        if subject is not None and subject.scope not in client.scopes:
            errors.append(f"Events about {subject_type} need the scope {subject.scope!r}, which this client lacks.")
    if errors:
        raise ValidationFailed(" ".join(errors), fields={"event_types": errors})
    return sorted({str(p) for p in event_types})


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise ValidationFailed("Enter an http(s) URL.", fields={"url": ["invalid"]})
    if getattr(settings, "WEBHOOK_REQUIRE_HTTPS", False) and parts.scheme != "https":
        raise ValidationFailed("Webhook URLs must use https.", fields={"url": ["https required"]})
    if parts.username or parts.password:
        raise ValidationFailed("Put no credentials in the URL; verify the signature instead.", fields={"url": ["credentials"]})
    return url


# --- writes ----------------------------------------------------------------------------------

@transaction.atomic(durable=True)
def webhook_subscription_create(*, client_id: int, url: str, event_types: list[str], by: User,
                                description: str = "") -> tuple[WebhookSubscription, str]:
    """Subscribe a client; returns the subscription and its signing secret (shown to the caller)."""
    client = ApiClient.objects.filter(pk=client_id, revoked_at__isnull=True).first()
    if client is None:
        raise NotFound("No such active API client.")
    _ensure(may_manage_client(by, client))
    secret = new_secret()
    subscription = WebhookSubscription(
        client=client, url=_clean_url(url), event_types=_clean_event_types(event_types, client),
        description=(description or "")[:200], secret=secret, created_by=by,
        owner=by if not by.is_integration else client.created_by,
    )
    history_stamp(subscription, by=by)
    subscription.save()
    return subscription, secret


@transaction.atomic(durable=True)
def webhook_subscription_update(*, subscription_id: int, by: User, url: str | None = None,
                                event_types: list[str] | None = None, description: str | None = None) -> WebhookSubscription:
    subscription = _locked(subscription_id, by)
    if url is not None:
        subscription.url = _clean_url(url)
    if event_types is not None:
        subscription.event_types = _clean_event_types(event_types, subscription.client)
    if description is not None:
        subscription.description = description[:200]
    history_stamp(subscription, by=by)
    subscription.save()
    return subscription


@transaction.atomic(durable=True)
def webhook_subscription_delete(*, subscription_id: int, by: User) -> None:
    _locked(subscription_id, by).delete()


@transaction.atomic(durable=True)
def webhook_secret_rotate(*, subscription_id: int, by: User, overlap_hours: int = 24) -> tuple[WebhookSubscription, str]:
    """A new secret signs from now on; the old one keeps signing beside it for `overlap_hours`
    (0 to 168), so the receiver can switch without losing a message."""
    if not isinstance(overlap_hours, int) or not 0 <= overlap_hours <= 168:
        raise ValidationFailed("The overlap is 0 to 168 hours.", fields={"overlap_hours": ["0..168"]})
    subscription = _locked(subscription_id, by)
    secret = new_secret()
    if overlap_hours:
        subscription.previous_secret = subscription.secret
        subscription.previous_secret_expires_at = now() + dt.timedelta(hours=overlap_hours)
    else:
        subscription.previous_secret, subscription.previous_secret_expires_at = "", None
    subscription.secret = secret
    history_stamp(subscription, by=by, reason="secret rotated")
    subscription.save()
    return subscription, secret


def signing_secrets(subscription: WebhookSubscription, *, at: dt.datetime | None = None) -> list[str]:
    """The secrets that sign a message now: the current one, and the previous during the overlap."""
    at = at or now()
    valid = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires and expires > at:
        valid.append(subscription.previous_secret)
    return valid


@transaction.atomic(durable=True)
def webhook_subscription_set_active(*, subscription_id: int, by: User, active: bool, reason: str = "") -> WebhookSubscription:
    """Disable, or enable again: pending deliveries get a fresh 24-hour retry window."""
    subscription = _locked(subscription_id, by)
    if active and not subscription.is_active:
        stamp = now()
        subscription.is_active, subscription.disabled_at, subscription.disabled_reason = True, None, ""
        subscription.consecutive_failures = 0
        WebhookDelivery.objects.filter(subscription=subscription, status=WebhookDelivery.Status.PENDING).update(
            next_attempt_at=stamp, give_up_at=stamp + retry_window(), locked_until=None)
    elif not active and subscription.is_active:
        subscription.is_active, subscription.disabled_at = False, now()
        subscription.disabled_reason = (reason or f"Disabled by {by}.")[:300]
    history_stamp(subscription, by=by)
    subscription.save()
    return subscription


def retry_window() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "WEBHOOK_RETRY_HOURS", 24))


@transaction.atomic(durable=True)
def webhook_delivery_replay(*, delivery_id: int, by: User) -> WebhookDelivery:
    """Send a delivery again (whatever its state), with the same event id and body: receivers
    deduplicate on the id. Sent at once, outside the per-object order."""
    found = deliveries_visible_to(by).filter(pk=delivery_id).values_list("pk", flat=True).first()
    if found is None:
        raise NotFound("No such webhook delivery.")
    delivery = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("subscription__client").get(pk=found)
    _ensure(may_manage(by, delivery.subscription))
    if not delivery.subscription.is_active:
        raise ValidationFailed("The subscription is disabled: enable it first.", fields={"subscription": ["disabled"]})
    stamp = now()
    delivery.status, delivery.next_attempt_at, delivery.give_up_at = WebhookDelivery.Status.PENDING, stamp, stamp + retry_window()
    delivery.locked_until = None
    delivery.save(update_fields=["status", "next_attempt_at", "give_up_at", "locked_until"])
    from otc.tasks import webhook_deliver

    transaction.on_commit(lambda: webhook_deliver.delay(delivery_id=delivery.pk, replay=True))
    return delivery


@transaction.atomic(durable=True)
def webhook_events_replay(*, subscription_id: int, by: User, since: dt.datetime, limit: int = 10_000) -> int:
    """Queue the subscription's event types recorded since `since` (earlier than the subscription
    too: the backlog) that it has not received yet. Returns how many were queued."""
    subscription = _locked(subscription_id, by)
    events = OutboxEvent.objects.filter(created_at__gte=since).order_by("id").values_list(
        "id", "topic", "subject_type", "subject_id")[:limit]
    stamp = now()
    rows = [WebhookDelivery(subscription=subscription, event_id=eid, topic=topic, subject_key=f"{stype}:{sid}",
                            next_attempt_at=stamp, give_up_at=stamp + retry_window())
            for eid, topic, stype, sid in events if subscribed(subscription, topic)]
    before = WebhookDelivery.objects.filter(subscription=subscription).count()
    WebhookDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return WebhookDelivery.objects.filter(subscription=subscription).count() - before
