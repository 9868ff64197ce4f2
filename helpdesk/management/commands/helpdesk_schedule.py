"""Register the help desk's sweep in django-celery-beat (idempotent: safe on every deploy):
SLA refresh with warnings and breaches, credit notes followed, resolved tickets closed."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

TASK_NAME = "helpdesk: SLA sweep, credit-note follow-up, auto-close"


class Command(BaseCommand):
    help = "Create or update the beat schedule for helpdesk.sweep (every N minutes, default 5)."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=5)

    def handle(self, *args, minutes=5, **options):
        every, _ = IntervalSchedule.objects.get_or_create(every=minutes, period=IntervalSchedule.MINUTES)
        task, created = PeriodicTask.objects.update_or_create(
            name=TASK_NAME, defaults={"task": "helpdesk.sweep", "interval": every, "crontab": None, "enabled": True,
                                      "kwargs": "{}"})
        self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}' every {minutes} min.")
