"""Register the daily contract task in django-celery-beat (idempotent: safe on every deploy)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, PeriodicTask

TASK_NAME = "contracts: daily activation and expiry"


class Command(BaseCommand):
    help = "Create or update the beat schedule for contracts.daily (every day at 00:30)."

    def add_arguments(self, parser):
        parser.add_argument("--hour", type=int, default=0)
        parser.add_argument("--minute", type=int, default=30)

    def handle(self, *args, hour=0, minute=30, **options):
        schedule, _ = CrontabSchedule.objects.get_or_create(
            minute=str(minute), hour=str(hour), day_of_week="*", day_of_month="*", month_of_year="*",
            timezone=settings.TIME_ZONE)
        task, created = PeriodicTask.objects.update_or_create(
            name=TASK_NAME, defaults={"task": "contracts.daily", "crontab": schedule, "interval": None,
                                      "enabled": True, "kwargs": "{}"})
        self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}' at {hour:02d}:{minute:02d}.")
