"""Register the period-opening task in django-celery-beat (idempotent: safe on every deploy)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, PeriodicTask

TASK_NAME = "ledger: open periods through the horizon"


class Command(BaseCommand):
    help = ("Create or update the beat schedule for ledger.periods_open_ahead (daily at 00:05, so the month "
            "turning over opens the next period; a run that finds nothing to open changes nothing).")

    def handle(self, *args, **options):
        schedule, _ = CrontabSchedule.objects.get_or_create(
            minute="5", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE)
        task, created = PeriodicTask.objects.update_or_create(
            name=TASK_NAME, defaults={"task": "ledger.periods_open_ahead", "crontab": schedule, "interval": None,
                                      "enabled": True, "kwargs": "{}"})
        self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}' daily at 00:05.")
