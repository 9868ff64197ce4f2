"""Contracts: thin, idempotent Celery tasks calling services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="contracts.notify_contract_submitted", acks_late=True, autoretry_for=(OSError,),
             retry_backoff=True, max_retries=5)
def notify_contract_submitted(version_id: int) -> int:
    from .services.notifications import send_submitted

    return send_submitted(version_id)


@shared_task(name="contracts.notify_contract_decision", acks_late=True, autoretry_for=(OSError,),
             retry_backoff=True, max_retries=5)
def notify_contract_decision(version_id: int, decision: str) -> int:
    from .services.notifications import send_decision

    return send_decision(version_id, decision)


@shared_task(name="contracts.daily", acks_late=True)
def contracts_daily() -> dict[str, int]:
    """Activate approved versions whose date has come, then expire or renew ended contracts."""
    from .services import contracts_activate_due, contracts_expire_due

    return {"activated": contracts_activate_due(), "expired_or_renewed": contracts_expire_due()}
