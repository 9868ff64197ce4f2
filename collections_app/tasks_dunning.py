"""Dunning tasks: the daily run (beat), its chunks, and the letters' PDFs and e-mails (documents queue)."""

from __future__ import annotations

from celery import shared_task

from otc.errors import DomainError

DOCUMENT_TASK = {"acks_late": True, "reject_on_worker_lost": True, "autoretry_for": (Exception,),
                 "dont_autoretry_for": (DomainError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="collections.dunning_daily")
def dunning_daily_task() -> list[int]:
    """Beat: one dunning run per legal entity with an active policy (idempotent per customer, level, date)."""
    from collections_app.services.dunning import dunning_daily

    return dunning_daily()


@shared_task(name="collections.dunning_run_chunk", acks_late=True, reject_on_worker_lost=True)
def dunning_run_chunk_task(*, run_id: int, customer_ids: list[int]) -> int:
    from collections_app.services.dunning import dunning_run_chunk

    return dunning_run_chunk(run_id=run_id, customer_ids=customer_ids)


@shared_task(name="collections.dunning_letters_publish", **DOCUMENT_TASK)
def dunning_letters_publish_task(*, letter_ids: list[int]) -> int:
    """Store each sent letter's PDF once and deliver it (e-mail, or print and post)."""
    from collections_app.services.dunning_letters import dunning_letters_publish

    return dunning_letters_publish(letter_ids=letter_ids)


@shared_task(name="collections.credit_holds_daily")
def credit_holds_daily_task() -> dict:
    """Beat: place credit holds past each entity's policy and release those paid (idempotent)."""
    from collections_app.services.credit_holds import credit_holds_daily

    return credit_holds_daily()
