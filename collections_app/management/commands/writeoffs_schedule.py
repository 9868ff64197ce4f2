"""Register the monthly small-balance write-off proposal in django-celery-beat (idempotent: safe on
every deploy)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, PeriodicTask

TASK_NAME = "collections: propose small-balance write-offs"


class Command(BaseCommand):
    help = ("Create or update the beat schedule for collections.small_balance_batches_propose (the 1st of each "
            "month at 06:00: one batch per entity whose small-balance policy is on; a month has one batch).")

    def handle(self, *args, **options):
        schedule, _ = CrontabSchedule.objects.get_or_create(
            minute="0", hour="6", day_of_week="*", day_of_month="1", month_of_year="*", timezone=settings.TIME_ZONE)
        task, created = PeriodicTask.objects.update_or_create(
            name=TASK_NAME, defaults={"task": "collections.small_balance_batches_propose", "crontab": schedule,
                                      "interval": None, "enabled": True, "kwargs": "{}"})
        self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}' monthly on the 1st at 06:00.")
