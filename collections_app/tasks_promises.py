"""Promises and disputes: the daily beat task (promises kept or broken, disputes whose credit note
was issued) and the broken-promise notice to the collector. Thin and idempotent."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="collections.promises_daily", acks_late=True, reject_on_worker_lost=True)
def promises_daily_task(as_of: str | None = None) -> dict[str, int]:
    """Beat, daily: decide open promises (a decided promise is not decided again) and close
    disputes whose credit note was issued."""
    import datetime as dt

    from .services.disputes import disputes_follow_credit_notes
    from .services.promises import promises_evaluate

    counts = promises_evaluate(as_of=dt.date.fromisoformat(as_of) if as_of else None)
    counts["disputes_closed"] = disputes_follow_credit_notes()
    return counts


@shared_task(name="collections.notify_broken_promises", acks_late=True)
def notify_broken_promises(*, promise_ids: list[int]) -> int:
    """E-mail each collector the promises of their customers that were just broken."""
    from collections import defaultdict

    from django.conf import settings
    from django.core.mail import send_mail

    from otc.money import money_text

    from .models import CollectorAssignment, PromiseToPay

    promises = list(PromiseToPay.objects.filter(pk__in=promise_ids, status="broken").select_related("customer", "taken_by"))
    collectors = dict(CollectorAssignment.objects.filter(customer_id__in={p.customer_id for p in promises})
                      .select_related("collector").values_list("customer_id", "collector__email"))
    by_email: dict[str, list[PromiseToPay]] = defaultdict(list)
    for promise in promises:
        email = collectors.get(promise.customer_id) or (promise.taken_by.email if promise.taken_by else "")
        if email:
            by_email[email].append(promise)
    for email, rows in by_email.items():
        lines = [f"- {p.customer.legal_name}: {money_text(p.amount, p.currency)} promised by {p.promised_date:%Y-%m-%d}, "
                 f"{money_text(p.paid_amount, p.currency)} paid" for p in rows]
        send_mail(subject=f"{len(rows)} promise(s) to pay broken", message="\n".join(
            ["These promises to pay were broken; the customers moved up your worklist:", "", *lines]),
            from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[email])
    return len(by_email)
