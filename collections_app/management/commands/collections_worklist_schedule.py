"""Register the daily promises task in django-celery-beat (idempotent: safe on every deploy):
promises kept or broken, disputes closed by their issued credit notes."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, PeriodicTask

TASK_NAME = "collections: promises kept or broken, disputes closed by credit notes"


class Command(BaseCommand):
    help = "Create or update the beat schedule for collections.promises_daily (daily, default 06:15)."

    def add_arguments(self, parser):
        parser.add_argument("--hour", type=int, default=6)
        parser.add_argument("--minute", type=int, default=15)

    def handle(self, *args, hour=6, minute=15, **options):
        crontab, _ = CrontabSchedule.objects.get_or_create(minute=str(minute), hour=str(hour), day_of_week="*",
                                                           day_of_month="*", month_of_year="*")
        task, created = PeriodicTask.objects.update_or_create(
            name=TASK_NAME, defaults={"task": "collections.promises_daily", "crontab": crontab, "interval": None,
                                      "enabled": True, "kwargs": "{}"})
        self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}' daily at {hour:02d}:{minute:02d}.")
