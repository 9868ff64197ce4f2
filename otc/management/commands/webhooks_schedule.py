"""Register the webhook dispatcher in django-celery-beat (idempotent: safe on every deploy)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

TASK_NAME = "webhooks: dispatch the outbox"


class Command(BaseCommand):
    help = "Create or update the beat schedule for otc.webhooks_dispatch (every 30 seconds by default)."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=30)

    def handle(self, *args, seconds=30, **options):
        schedule, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
        task, created = PeriodicTask.objects.update_or_create(
            name=TASK_NAME, defaults={"task": "otc.webhooks_dispatch", "interval": schedule, "crontab": None,
                                      "enabled": True, "kwargs": "{}"})
        self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}' every {seconds} s.")
