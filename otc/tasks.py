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
