"""Kernel Celery tasks: thin wrappers, idempotent and safe to retry."""

from __future__ import annotations

from celery import shared_task

from . import roles


@shared_task(name="otc.ping")
def ping() -> str:
    """A liveness probe for workers: `celery -A otc call otc.ping`."""
    return "pong"


@shared_task(name="otc.ensure_roles", acks_late=True)
def ensure_roles() -> dict[str, int]:
    """Create or update the role groups (idempotent); returns permissions per role."""
    return roles.ensure_roles()


@shared_task(name="otc.webhooks_dispatch", acks_late=True)
def webhooks_dispatch() -> dict[str, int]:
    """Fan new outbox events out to webhook subscriptions, then send what is due (beat: every
    30 seconds; `manage.py webhooks_schedule`). Safe to run concurrently and to retry."""
    from .webhooks.delivery import deliver_due, fan_out

    dispatched = 0
    while True:
        handled = fan_out()
        dispatched += handled
        if handled < 1000:
            break
    return {"events": dispatched, **deliver_due()}


@shared_task(name="otc.webhook_deliver", acks_late=True)
def webhook_deliver(*, delivery_id: int, replay: bool = False) -> bool | None:
    """Send one delivery now (a replay); a no-op when it is already being sent."""
    from .webhooks.delivery import deliver

    return deliver(delivery_id=delivery_id, replay=replay)
