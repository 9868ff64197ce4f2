"""The monthly schedule's billing run: at most one a month, decided by the database.

The beat (billing.tasks.billing_run_monthly) may be delivered twice, by two beats or after a
worker crash. Each delivery first claims the month by inserting the scheduled run; the unique
constraint `billingrun_monthly_once` lets one insert win, and a losing delivery returns the
winner's run. The winner then finds the month's billable contracts and enqueues them through
`billing_run_resume`, the same path that completes an interrupted run, so a delivery that dies
between the claim and the enqueue leaves a run that a resume (or the run page) finishes."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from ..models import BillingRun
from ..periods import month_start
from .run import billing_run_resume


def billing_run_monthly_start(*, period_start: dt.date) -> BillingRun:
    """The scheduled run of the month of `period_start`: the existing one, else a new one whose
    contracts are enqueued after commit. Never two for one month."""
    month = month_start(period_start)
    existing = BillingRun.objects.filter(period_start=month, scheduled=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic(durable=True):
            run = BillingRun.objects.create(period_start=month, scheduled=True, started_by=None,
                                            status=BillingRun.Status.GENERATING)
    except IntegrityError:
        return BillingRun.objects.get(period_start=month, scheduled=True)
    return billing_run_resume(run_id=run.pk, by=None)


__all__ = ["billing_run_monthly_start"]
