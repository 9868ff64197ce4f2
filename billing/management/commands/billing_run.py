"""Start a month's billing run from the command line: `billing_run --period 2026-11 [--issue]
[--entity US01]`; finish one whose workers died with `billing_run --resume RUN_ID [--issue]`;
register the monthly beat schedule with `billing_run --schedule`."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SCHEDULE_NAME = "billing: monthly run"


def _period(text: str) -> dt.date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        raise CommandError(f"--period {text!r} is not a month: use YYYY-MM, e.g. 2026-11.")


class Command(BaseCommand):
    help = ("Generate the billing run's drafts for a month (advance periods starting in it, arrears, usage and "
            "milestones of the month before), optionally issue them; or register the monthly beat schedule.")

    def add_arguments(self, parser):
        parser.add_argument("--period", help="The run's month, YYYY-MM")
        parser.add_argument("--entity", help="Legal entity code (default: every entity)")
        parser.add_argument("--issue", action="store_true", help="Issue the drafts that pass, after generating")
        parser.add_argument("--resume", type=int, metavar="RUN_ID",
                            help="Generate what a run that is still generating has not done yet")
        parser.add_argument("--schedule", action="store_true",
                            help="Create or update the beat task: day 1 of each month at 02:00 (idempotent)")

    def handle(self, *args, period=None, entity=None, issue=False, schedule=False, resume=None, **options):
        if schedule:
            return self._schedule()
        from billing.models import BillingRun
        from billing.services.run import billing_run_resume, billing_run_start
        from ledger.models import LegalEntity
        from otc.errors import DomainError

        if resume is not None:
            try:
                run = billing_run_resume(run_id=resume, by=None)
            except (DomainError, BillingRun.DoesNotExist) as exc:
                raise CommandError(str(exc))
            return self._after_start(run, issue)
        if not period:
            raise CommandError("Give --period YYYY-MM (or --resume RUN_ID, or --schedule).")

        entity_id = None
        if entity:
            found = LegalEntity.objects.filter(code=entity).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"No legal entity with code {entity!r}.")
            entity_id = found
        self._after_start(billing_run_start(period_start=_period(period), by=None, legal_entity_id=entity_id), issue)

    def _after_start(self, run, issue: bool) -> None:
        from billing.models import BillingRun
        from billing.services.run import billing_run_issue

        run.refresh_from_db()
        self._print(run)
        if issue:
            if run.status != BillingRun.Status.GENERATED:
                raise CommandError(f"{run} is {run.get_status_display().lower()}: issue it when the workers are done.")
            run = billing_run_issue(run_id=run.pk, by=None)
            self._print(run)

    def _print(self, run) -> None:
        self.stdout.write(
            f"{run} {run.get_status_display()}: contracts {run.contracts_done}/{run.contracts_total}, "
            f"invoices created {run.invoices_created}, issued {run.invoices_issued}, skipped {run.skipped}, "
            f"exceptions {run.exceptions_count}")

    def _schedule(self) -> None:
        from django_celery_beat.models import CrontabSchedule, PeriodicTask

        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute="0", hour="2", day_of_week="*", day_of_month="1", month_of_year="*", timezone=settings.TIME_ZONE)
        task, created = PeriodicTask.objects.update_or_create(
            name=SCHEDULE_NAME, defaults={"task": "billing.run_monthly", "crontab": crontab, "interval": None,
                                          "kwargs": "{}"})
        self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}': day 1 of each month at 02:00.")
        daily, _ = CrontabSchedule.objects.get_or_create(
            minute="15", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE)
        PeriodicTask.objects.update_or_create(
            name="billing: overdue invoice events", defaults={"task": "billing.overdue_events", "crontab": daily,
                                                             "interval": None, "kwargs": "{}"})
        self.stdout.write("Scheduled 'billing: overdue invoice events' daily at 00:15.")
