"""Register the daily contract task in django-celery-beat (idempotent: safe on every deploy)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from otc.schedules import beat_schedule_save

TASK_NAME = "contracts: daily activation and expiry"


class Command(BaseCommand):
    help = "Create or update the beat schedule for contracts.daily (every day at 00:30)."

    def add_arguments(self, parser):
        parser.add_argument("--hour", type=int, default=0)
        parser.add_argument("--minute", type=int, default=30)

    def handle(self, *args, hour=0, minute=30, **options):
        task, created = beat_schedule_save(name=TASK_NAME, task="contracts.daily", minute=minute, hour=hour)
        self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}' at {hour:02d}:{minute:02d}.")
